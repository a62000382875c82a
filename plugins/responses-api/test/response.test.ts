import { expect } from 'chai';
import type { SSEEvent } from '@waygate/core';
import { toResponse, ResponsesStreamWriter, RESPONSES_STREAM, RESPONSES_CODEC, responseUsage } from '../src/index.js';

const chunk = (delta: object, finish: string | null = null, extra: object = {}): SSEEvent => ({
  data: JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1730000000,
    model: 'gpt-x',
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  }),
});
const USAGE = {
  prompt_tokens: 10,
  completion_tokens: 4,
  total_tokens: 14,
  prompt_tokens_details: { cached_tokens: 2 },
  completion_tokens_details: { reasoning_tokens: 1 },
};
const RESP_USAGE = {
  input_tokens: 10,
  input_tokens_details: { cached_tokens: 2, cache_write_tokens: 0 },
  output_tokens: 4,
  output_tokens_details: { reasoning_tokens: 1 },
  total_tokens: 14,
};

const run = (events: SSEEvent[]): { type: string; [k: string]: unknown }[] => {
  const w = new ResponsesStreamWriter({ model: 'gpt-x', input: 'hi' });
  const out = events.flatMap((e) => w.transform(e) ?? []);
  out.push(...(w.flush() ?? []));
  return out.map((e) => {
    const d = JSON.parse(e.data);
    expect(d.type).to.equal(e.event);
    return d;
  });
};

describe('@waygate/responses-api: chat answer → Response', () => {
  it('maps text, tool calls and usage', () => {
    const r = toResponse(
      {
        created: 5,
        model: 'gpt-x',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hi', tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'f', arguments: '{}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
        usage: USAGE,
      },
      { model: 'gpt-x', input: 'hi' },
    );
    expect(r).to.include({ object: 'response', status: 'completed', model: 'gpt-x' });
    // The gateway's clock, not the upstream's `created` (skewed, or old for a cached answer).
    expect(r.created_at).to.be.within(Math.floor(Date.now() / 1000) - 5, Math.floor(Date.now() / 1000) + 1);
    expect(r.id).to.match(/^resp_/);
    const [msg, call] = r.output as Record<string, unknown>[];
    expect(msg).to.include({ type: 'message', role: 'assistant', status: 'completed' });
    expect(msg!.content).to.deep.equal([{ type: 'output_text', text: 'Hi', annotations: [], logprobs: [] }]);
    expect(call).to.include({ type: 'function_call', call_id: 'call_9', name: 'f', arguments: '{}', status: 'completed' });
    expect(call!.id).to.match(/^fc_/);
    expect(r.usage).to.deep.equal(RESP_USAGE);
  });

  it('echoes a json_schema format with the name the chat request got', () => {
    const r = toResponse(
      { choices: [{ index: 0, message: { content: '{}' }, finish_reason: 'stop' }] },
      { model: 'm', text: { format: { type: 'json_schema', schema: { type: 'object' } } } },
    );
    expect(r.text).to.deep.equal({ format: { type: 'json_schema', schema: { type: 'object' }, name: 'response' } });
  });

  it('marks a length finish as incomplete', () => {
    const r = toResponse({ choices: [{ index: 0, message: { content: 'a' }, finish_reason: 'length' }] }, { model: 'm' });
    expect(r).to.deep.include({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });
});

describe('@waygate/responses-api: chat stream → Responses events', () => {
  it('writes the full typed sequence for text then a function call, with sequence numbers', () => {
    const evs = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
      { data: JSON.stringify({ choices: [], usage: USAGE }) },
      { data: '[DONE]' },
    ]);
    expect(evs.map((e) => e.type)).to.deep.equal([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(evs.map((e) => e.sequence_number)).to.deep.equal(evs.map((_, i) => i));
    expect(evs[6]).to.include({ text: 'Hello', output_index: 0, content_index: 0 });
    expect(evs[12]).to.include({ arguments: '{"a":1}', name: 'f', output_index: 1 });
    const done = evs[14]!.response as Record<string, unknown>;
    expect(done).to.include({ status: 'completed' });
    expect(done.usage).to.deep.equal(RESP_USAGE);
    expect((done.output as unknown[]).length).to.equal(2);
    expect(RESPONSES_STREAM.usage!({ event: 'response.completed', data: JSON.stringify(evs[14]) })?.usage).to.include({
      prompt_tokens: 10,
      completion_tokens: 4,
    });
  });

  it('ends with response.failed on an error chunk', () => {
    const evs = run([chunk({ content: 'a' }), { data: JSON.stringify({ error: { message: 'boom', code: 'server_error' } }) }]);
    const last = evs[evs.length - 1]!;
    expect(last.type).to.equal('response.failed');
    expect((last.response as Record<string, unknown>).error).to.deep.equal({ code: 'server_error', message: 'boom' });
  });

  it('fails a stream cut before any content (the attempt can be retried)', () => {
    const w = new ResponsesStreamWriter({ model: 'm' });
    w.transform(chunk({ role: 'assistant', content: '' }));
    expect(() => w.flush()).to.throw(/before its proper end/);
  });

  it('ends a stream cut after content with an error event numbered in sequence', () => {
    const w = new ResponsesStreamWriter({ model: 'm' });
    const first = w.transform(chunk({ content: 'a' }))!;
    const last = w.flush()!;
    expect(last).to.have.length(1);
    const d = JSON.parse(last[0]!.data);
    expect(d).to.include({ type: 'error', code: 'stream_interrupted', param: null, sequence_number: first.length });
    expect(d.message).to.match(/before its proper end/);
  });
});

describe('@waygate/responses-api: stream format and codec', () => {
  it('holds the preamble, ends on completed, reads error events', () => {
    expect(RESPONSES_STREAM.isContent({ event: 'response.created', data: '{}' })).to.equal(false);
    expect(RESPONSES_STREAM.isContent({ event: 'response.output_text.delta', data: '{}' })).to.equal(true);
    expect(RESPONSES_STREAM.isEnd({ data: '{"type":"response.completed"}' })).to.equal(true);
    const err = RESPONSES_STREAM.errorOf({ event: 'error', data: '{"type":"error","code":"rate_limit_exceeded","message":"slow"}' }, 'openai');
    expect(err?.status).to.equal(429);
    expect(RESPONSES_STREAM.errorOf({ event: 'response.output_text.delta', data: '{}' }, 'openai')).to.equal(undefined);
  });

  it('round-trips a Response through its events', () => {
    const r = toResponse({ model: 'm', choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'stop' }], usage: USAGE }, { model: 'm' });
    expect(RESPONSES_CODEC.fromEvents(RESPONSES_CODEC.toEvents(r))).to.deep.equal(r);
    expect(responseUsage(r)?.usage).to.include({ prompt_tokens: 10, total_tokens: 14 });
  });
});
