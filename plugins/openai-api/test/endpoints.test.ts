import { expect } from 'chai';
import { GatewayError } from '@waygate/core';
import type { SSEEvent } from '@waygate/core';
import { OPENAI_CHAT_CODEC, OPENAI_COMPLETIONS_CODEC, OPENAI_STREAM } from '../src/index.js';

describe('OpenAI stream format', () => {
  it('treats the role-only opening chunk as a preamble and anything else as content', () => {
    const chunk = (delta: object, finish: string | null = null) => ({ data: JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] }) });
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant', content: '' }))).to.equal(false);
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant', content: 'Hi' }))).to.equal(true);
    expect(OPENAI_STREAM.isContent(chunk({ role: 'assistant' }, 'stop'))).to.equal(true);
    expect(OPENAI_STREAM.isEnd({ data: '[DONE]' })).to.equal(true);
  });

  it('recognises error events and writes its own terminal error event', () => {
    const err = OPENAI_STREAM.errorOf({ data: '{"error":{"message":"overloaded"}}' }, 'acme');
    expect(err?.message).to.match(/acme sent an error event: overloaded/);
    expect(err?.retryable).to.equal(true);
    expect(OPENAI_STREAM.errorOf({ data: '{"choices":[]}' }, 'acme')).to.equal(undefined);
    const ev = OPENAI_STREAM.errorEvent(new GatewayError('stream_interrupted', 502, 'cut'));
    expect(JSON.parse(ev.data).error.code).to.equal('stream_interrupted');
  });

  it('reads usage only from chunks that carry it', () => {
    expect(OPENAI_STREAM.usage!({ data: '{"choices":[{"delta":{"content":"usage"}}]}' })).to.equal(undefined);
    expect(OPENAI_STREAM.usage!({ data: '{"model":"m","choices":[],"usage":{"prompt_tokens":3}}' })).to.deep.equal({
      usage: { prompt_tokens: 3 },
      model: 'm',
    });
  });

  it('parses a chunk only where its "usage" is an object, written with or without a space after the colon', () => {
    expect(OPENAI_STREAM.usage!({ data: '{"choices":[],"usage": {"total_tokens":4}}' })).to.deep.equal({ usage: { total_tokens: 4 }, model: undefined });
    expect(OPENAI_STREAM.usage!({ data: '{"choices":[{"delta":{},"usage":null}],"usage":{"total_tokens":5}}' })).to.deep.equal({
      usage: { total_tokens: 5 },
      model: undefined,
    });
    expect(OPENAI_STREAM.usage!({ data: '{"model":"m","choices":[],"usage":null}' })).to.equal(undefined);
    expect(OPENAI_STREAM.usage!({ data: '{"model":"m","choices":[],"usage":' })).to.equal(undefined);
  });
});

describe('OpenAI codecs', () => {
  const completion = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1700000000,
    model: 'gpt-x',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Let me check.',
          refusal: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };

  it('turns a chat completion into the chunk stream OpenAI would send, and back', () => {
    const events = OPENAI_CHAT_CODEC.toEvents(completion);
    expect(events.at(-1)!.data).to.equal('[DONE]');
    const first = JSON.parse(events[0]!.data);
    expect(first.object).to.equal('chat.completion.chunk');
    expect(first.choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
    expect(OPENAI_CHAT_CODEC.fromEvents(events)).to.deep.equal(completion);
  });

  it('assembles streamed tool-call fragments and text', () => {
    const ev = (o: object): SSEEvent => ({ data: JSON.stringify({ id: 'c', created: 1, model: 'm', choices: [{ index: 0, ...o }] }) });
    const events = [
      ev({ delta: { role: 'assistant', content: '' } }),
      ev({ delta: { content: 'He' } }),
      ev({ delta: { content: 'llo' } }),
      ev({ delta: { tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a"' } }] } }),
      ev({ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }),
      ev({ delta: {}, finish_reason: 'tool_calls' }),
      { data: '[DONE]' },
    ];
    const json = OPENAI_CHAT_CODEC.fromEvents(events) as any;
    expect(json.choices[0].message.content).to.equal('Hello');
    expect(json.choices[0].message.tool_calls).to.deep.equal([{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    expect(json.choices[0].finish_reason).to.equal('tool_calls');
  });

  it('round-trips a legacy completion', () => {
    const c = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, text: 'hi there', finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    };
    expect(OPENAI_COMPLETIONS_CODEC.fromEvents(OPENAI_COMPLETIONS_CODEC.toEvents(c))).to.deep.equal(c);
  });
});
