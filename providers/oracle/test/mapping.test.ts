// The pure mappings: OpenAI chat bodies → GENERIC and COHERE chat requests, OCI answers and stream
// events → OpenAI's, embeddings, errors.
import { expect } from 'chai';
import type { BuildInput, SSEEvent } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { apiFormatOf, toCohereChatRequest, toGenericChatRequest } from '../src/request.js';
import { finishReason, toOpenAIResponse } from '../src/response.js';
import { OracleStreamTransformer } from '../src/stream.js';
import { toEmbedText } from '../src/embeddings.js';
import { isRetryableOci, mapOracleError } from '../src/errors.js';
import { WEATHER_TOOL, jsonFixture } from './fixtures.js';

const CALL = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };

function input(body: Record<string, unknown>, node: Record<string, unknown> = {}): BuildInput {
  return {
    ctx: { id: 'req1', headers: {}, startedAt: Date.UTC(2025, 0, 1), stream: body.stream === true } as never,
    target: { node, baseURL: undefined } as never,
    body,
  };
}

describe('GENERIC chat requests', () => {
  it('maps roles, content parts, tool calls and tool answers', () => {
    const out = toGenericChatRequest({
      messages: [
        { role: 'developer', content: 'Rules.' },
        {
          role: 'user',
          name: 'ann',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [CALL] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
        { role: 'assistant', content: 'It is 21.' },
      ],
    });
    expect(out.messages).to.deep.equal([
      { role: 'SYSTEM', content: [{ type: 'TEXT', text: 'Rules.' }] },
      {
        role: 'USER',
        name: 'ann',
        content: [
          { type: 'TEXT', text: 'What is this?' },
          { type: 'IMAGE', imageUrl: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'HIGH' } },
        ],
      },
      { role: 'ASSISTANT', content: null, toolCalls: [{ id: 'call_1', type: 'FUNCTION', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      { role: 'TOOL', toolCallId: 'call_1', content: [{ type: 'TEXT', text: '{"temp":21}' }] },
      { role: 'ASSISTANT', content: [{ type: 'TEXT', text: 'It is 21.' }] },
    ]);
  });

  it('maps the options, tool choice and response formats', () => {
    const out = toGenericChatRequest({
      model: 'openai.gpt-4.1',
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 300,
      top_k: 40,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      seed: 7,
      n: 2,
      stop: ['a', 'b'],
      logprobs: true,
      top_logprobs: 3,
      parallel_tool_calls: false,
      reasoning_effort: 'low',
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } },
    });
    expect(out).to.deep.include({
      apiFormat: 'GENERIC',
      maxCompletionTokens: 300,
      topK: 40,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      seed: 7,
      numGenerations: 2,
      stop: ['a', 'b'],
      logProbs: 3,
      isParallelToolCalls: false,
      reasoningEffort: 'LOW',
      toolChoice: { type: 'FUNCTION', name: 'get_weather' },
      responseFormat: { type: 'JSON_SCHEMA', jsonSchema: { name: 'w', schema: { type: 'object' }, isStrict: true } },
    });
    expect(toGenericChatRequest({ model: 'meta.llama-3.3-70b-instruct', messages: [], max_completion_tokens: 9 }).maxTokens).to.equal(9);
    expect(toGenericChatRequest({ messages: [], tools: [WEATHER_TOOL], tool_choice: 'required' }).toolChoice).to.deep.equal({ type: 'REQUIRED' });
  });

  it('refuses unknown roles and content parts with a 400 naming the field', () => {
    expect(thrown(() => toGenericChatRequest({ messages: [{ role: 'robot', content: 'x' }] })).param).to.equal('messages[0].role');
    const audio = thrown(() => toGenericChatRequest({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }));
    expect([audio.status, audio.param]).to.deep.equal([400, 'messages[0].content[0]']);
  });
});

describe('COHERE chat requests', () => {
  it('cohere.command* models speak COHERE, others GENERIC, oracle_api_format decides when set', () => {
    expect(apiFormatOf(input({ model: 'cohere.command-r-plus-08-2024' }))).to.equal('COHERE');
    expect(apiFormatOf(input({ model: 'cohere.command-a-vision-07-2025' }))).to.equal('GENERIC');
    expect(apiFormatOf(input({ model: 'meta.llama-3.3-70b-instruct' }))).to.equal('GENERIC');
    expect(apiFormatOf(input({ model: 'ocid1.generativeaiendpoint.oc1..x' }, { oracle_api_format: 'cohere' }))).to.equal('COHERE');
  });

  it('puts the system prompt in preambleOverride, the last user turn in message and the rest in chatHistory', () => {
    const out = toCohereChatRequest({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      ],
      stop: 'END',
      response_format: { type: 'json_object' },
    });
    expect(out).to.deep.equal({
      apiFormat: 'COHERE',
      message: 'Weather?',
      chatHistory: [
        { role: 'USER', message: 'Hi' },
        { role: 'CHATBOT', message: 'Hello!' },
      ],
      preambleOverride: 'Be brief.',
      stopSequences: ['END'],
      responseFormat: { type: 'JSON_OBJECT' },
    });
  });

  it('ends a tool round with an empty message and toolResults naming the calls they answer', () => {
    const out = toCohereChatRequest({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [CALL] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(out.message).to.equal('');
    expect(out.chatHistory).to.deep.equal([
      { role: 'USER', message: 'Weather in Paris?' },
      { role: 'CHATBOT', message: 'Checking.', toolCalls: [{ name: 'get_weather', parameters: { city: 'Paris' } }] },
    ]);
    expect(out.toolResults).to.deep.equal([{ call: { name: 'get_weather', parameters: { city: 'Paris' } }, outputs: [{ temp: 21 }] }]);
    expect(out.tools[0].parameterDefinitions.city).to.deep.equal({ type: 'str', description: 'The city', isRequired: true });
  });

  it('an earlier tool answer goes into chatHistory as a TOOL entry; plain text outputs are wrapped', () => {
    const out = toCohereChatRequest({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', tool_calls: [CALL] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'assistant', content: 'Sunny.' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    expect(out.chatHistory[2]).to.deep.equal({
      role: 'TOOL',
      toolResults: [{ call: { name: 'get_weather', parameters: { city: 'Paris' } }, outputs: [{ output: 'sunny' }] }],
    });
    expect(out.message).to.equal('Thanks');
  });

  it('refuses a conversation that ends with the assistant, and images', () => {
    expect(
      thrown(() =>
        toCohereChatRequest({
          messages: [
            { role: 'user', content: 'a' },
            { role: 'assistant', content: 'b' },
          ],
        }),
      ).status,
    ).to.equal(400);
    const img = thrown(() => toCohereChatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }));
    expect(img.message).to.include('text content only');
  });
});

describe('answers', () => {
  it('maps finish reasons of both formats', () => {
    expect(['stop', 'COMPLETE', 'length', 'MAX_TOKENS', 'tool_calls', 'ERROR_TOXIC', 'content_filter', null].map((r) => finishReason(r))).to.deep.equal([
      'stop',
      'stop',
      'length',
      'length',
      'tool_calls',
      'content_filter',
      'content_filter',
      'stop',
    ]);
    expect(finishReason('COMPLETE', true)).to.equal('tool_calls');
  });

  it('keeps reasoning tokens, every choice and the time the answer was made', () => {
    const json = jsonFixture('chat-generic-tools');
    const out = toOpenAIResponse(json, input({ model: 'xai.grok-3' }));
    expect(out.usage.completion_tokens_details).to.deep.equal({ reasoning_tokens: 12 });
    expect(out.created).to.equal(Math.floor(Date.parse('2025-06-10T18:25:01.004Z') / 1000));
    expect(out.choices[0].message.tool_calls[1].id).to.equal('call_Qm41xZbe');
    const two = structuredClone(json);
    two.chatResponse.choices.push({ index: 1, message: { role: 'ASSISTANT', content: [{ type: 'TEXT', text: 'B' }] }, finishReason: 'length' });
    expect(toOpenAIResponse(two, input({})).choices.map((c: any) => [c.index, c.finish_reason])).to.deep.equal([
      [0, 'tool_calls'],
      [1, 'length'],
    ]);
  });

  it('a Cohere answer with tool calls has ids and content kept', () => {
    const out = toOpenAIResponse(jsonFixture('chat-cohere-tools'), input({}));
    expect(out.choices[0].message.tool_calls).to.deep.equal([
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
  });
});

describe('the stream transformer', () => {
  const run = (body: Record<string, unknown>, datas: string[], flush = true): any[] => {
    const t = new OracleStreamTransformer(input({ stream: true, ...body }));
    const out: SSEEvent[] = [];
    for (const data of datas) out.push(...(t.transform({ data }) ?? []));
    if (flush) {
      const f = t.flush();
      if (f) out.push(...(Array.isArray(f) ? f : [f]));
    }
    return out.map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
  };

  it('usage that comes after the finishReason is sent before [DONE], when asked', () => {
    const events = run({ model: 'meta.x', stream_options: { include_usage: true } }, [
      '{"index":0,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"Hi"}]}}',
      '{"message":{"role":"ASSISTANT"},"finishReason":"length"}',
      '{"usage":{"promptTokens":3,"completionTokens":1,"totalTokens":4}}',
    ]);
    expect(events.map((e) => (e === '[DONE]' ? e : (e.choices[0]?.finish_reason ?? (e.usage ? 'usage' : e.choices[0].delta.content))))).to.deep.equal([
      '',
      'Hi',
      'length',
      'usage',
      '[DONE]',
    ]);
  });

  it('parallel tool calls: each id opens a call, id-less pieces go to the call at their position', () => {
    const events = run({ model: 'openai.gpt-4.1' }, [
      '{"message":{"toolCalls":[{"id":"a","type":"FUNCTION","name":"f","arguments":"{\\"x\\""}]}}',
      '{"message":{"toolCalls":[{"type":"FUNCTION","arguments":":1}"}]}}',
      '{"message":{"toolCalls":[{"id":"b","type":"FUNCTION","name":"g","arguments":""}]}}',
      '{"message":{"toolCalls":[{"type":"FUNCTION","arguments":"{}"}]}}',
      '{"finishReason":"tool_calls"}',
    ]);
    const calls: Record<number, { id?: string; name?: string; args: string }> = {};
    for (const e of events) {
      if (e === '[DONE]') continue;
      for (const tc of e.choices[0]?.delta?.tool_calls ?? []) {
        const c = (calls[tc.index] ??= { args: '' });
        if (tc.id) c.id = tc.id;
        if (tc.function?.name) c.name = tc.function.name;
        c.args += tc.function?.arguments ?? '';
      }
    }
    expect(calls).to.deep.equal({ 0: { id: 'a', name: 'f', args: '{"x":1}' }, 1: { id: 'b', name: 'g', args: '{}' } });
  });

  it("a Cohere stream's last event (the whole text) is not sent again; a lone last event is", () => {
    const text = (evs: any[]) =>
      evs
        .filter((e) => e !== '[DONE]')
        .map((e) => e.choices[0]?.delta?.content ?? '')
        .join('');
    const model = { model: 'cohere.command-r-08-2024' };
    expect(text(run(model, ['{"text":"Hel"}', '{"text":"lo"}', '{"text":"Hello","finishReason":"COMPLETE"}']))).to.equal('Hello');
    expect(text(run(model, ['{"apiFormat":"COHERE","text":"Hello","finishReason":"MAX_TOKENS"}']))).to.equal('Hello');
  });

  it('keeps the choices of n > 1 apart by their index', () => {
    const events = run({ model: 'meta.x', n: 2 }, [
      '{"index":0,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"A"}]}}',
      '{"index":1,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"B"}]}}',
      '{"index":1,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"b"}]}}',
      '{"index":1,"finishReason":"length"}',
      '{"index":0,"message":{"role":"ASSISTANT","content":[{"type":"TEXT","text":"a"}]}}',
    ]);
    const by: Record<number, { text: string; finish?: string }> = {};
    for (const e of events) {
      if (e === '[DONE]') continue;
      const c = e.choices[0];
      const slot = (by[c.index] ??= { text: '' });
      slot.text += c.delta.content ?? '';
      if (c.finish_reason) slot.finish = c.finish_reason;
    }
    expect(by).to.deep.equal({ 0: { text: 'Aa', finish: 'stop' }, 1: { text: 'Bb', finish: 'length' } });
    expect(events.at(-1)).to.equal('[DONE]');
  });

  it('accepts [DONE] as an end, and says nothing for an empty stream', () => {
    expect(run({ model: 'meta.x' }, ['{"finishReason":"stop"}', '[DONE]'], false).at(-1)).to.equal('[DONE]');
    expect(run({ model: 'meta.x' }, [])).to.deep.equal([]);
  });
});

describe('embeddings and errors', () => {
  it('maps input types, truncation and dimensions; refuses non-text input', () => {
    expect(toEmbedText({ input: 'x', input_type: 'search_query', truncate: 'end', dimensions: 256 })).to.deep.equal({
      inputs: ['x'],
      inputType: 'SEARCH_QUERY',
      truncate: 'END',
      outputDimensions: 256,
    });
    expect(thrown(() => toEmbedText({ input: [1, 2] })).param).to.equal('input');
    expect(thrown(() => toEmbedText({ input: 'x', input_type: 'poetry' })).param).to.equal('input_type');
  });

  it('409s are retryable only for IncorrectState; the opc-request-id is kept in the message', () => {
    expect([
      isRetryableOci(409, 'IncorrectState'),
      isRetryableOci(409, 'Conflict'),
      isRetryableOci(429, 'TooManyRequests'),
      isRetryableOci(502, undefined),
    ]).to.deep.equal([true, false, true, true]);
    const e = mapOracleError(404, { code: 'NotAuthorizedOrNotFound', message: 'nope' }, { 'opc-request-id': 'abc' });
    expect([e.status, e.retryable, e.message]).to.deep.equal([404, false, 'NotAuthorizedOrNotFound: nope (opc-request-id abc)']);
    expect(mapOracleError(502, '<html>bad gateway</html>', {}).message).to.equal('<html>bad gateway</html>');
  });
});
