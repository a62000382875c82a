// Unit tests of the OpenAI ⇄ Gemini mapping: pure functions, no network.
import assert from 'node:assert/strict';
import type { BuildInput, SSEEvent } from '@waygate/core';
import {
  GoogleStreamTransformer,
  chatCompletions,
  embeddings,
  finishReason,
  mapGoogleError,
  toGeminiEmbedRequest,
  toGeminiRequest,
  toOpenAIResponse,
  toOpenAIUsage,
} from '../src/index.js';

const input = (body: Record<string, unknown>, apiKey = 'k-123', baseURL = 'https://generativelanguage.googleapis.com/v1beta') =>
  ({ ctx: { headers: {} }, target: { provider: 'google', apiKey, baseURL, node: {}, path: 'config' }, body }) as unknown as BuildInput;

const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('google: request mapping (OpenAI → Gemini)', () => {
  it('puts system and developer messages in systemInstruction', () => {
    const out = toGeminiRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use French.' }] },
        { role: 'user', content: 'Hi' },
      ],
    });
    assert.deepEqual(out.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Use French.' }] });
    assert.deepEqual(out.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
  });

  it('maps a multi-turn conversation, assistant → model', () => {
    const out = toGeminiRequest({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'How are you?' },
      ],
    });
    assert.deepEqual(out.contents, [
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Hello!' }] },
      { role: 'user', parts: [{ text: 'How are you?' }] },
    ]);
    assert.equal(out.systemInstruction, undefined);
  });

  it('maps images: data URLs → inlineData, http(s) URLs → fileData', () => {
    const out = toGeminiRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp', detail: 'high' } },
          ],
        },
      ],
    });
    assert.deepEqual(out.contents[0].parts, [
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp' } },
    ]);
    assert.throws(
      () => toGeminiRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }),
      /data: URL/,
    );
  });

  it('maps tools to functionDeclarations and assistant tool_calls to functionCall parts', () => {
    const out = toGeminiRequest({
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
          ],
        },
      ],
      tools: [WEATHER],
    });
    assert.deepEqual(out.tools, [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: WEATHER.function.parameters }] }]);
    assert.deepEqual(out.contents[1], {
      role: 'model',
      parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: { tz: 'CET' } } }],
    });
  });

  it('maps tool results to functionResponse parts named after the matching call, merged in one turn', () => {
    const out = toGeminiRequest({
      messages: [
        { role: 'user', content: 'Weather and time?' },
        {
          role: 'assistant',
          tool_calls: [
            { id: 'a1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
            { id: 'a2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a1', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'a2', content: '12:00' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    assert.deepEqual(out.contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { content: { temp: 21 } } } },
        { functionResponse: { name: 'get_time', response: { content: '12:00' } } },
      ],
    });
    assert.deepEqual(out.contents[3], { role: 'user', parts: [{ text: 'Thanks' }] });
    assert.throws(() => toGeminiRequest({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }), /nope/);
  });

  it('maps tool_choice none/auto/required/{function}', () => {
    const tc = (tool_choice: unknown) => toGeminiRequest({ messages: [], tools: [WEATHER], tool_choice }).toolConfig;
    assert.deepEqual(tc('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(tc('auto'), { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(tc('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(tc({ type: 'function', function: { name: 'get_weather' } }), {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });
    assert.equal(tc(undefined), undefined);
  });

  it('maps response_format and sampling parameters to generationConfig', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const out = toGeminiRequest({
      messages: [],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
      stop: 'END',
      max_completion_tokens: 100,
      max_tokens: 5,
      temperature: 0.5,
      top_p: 0.9,
      n: 2,
    });
    assert.deepEqual(out.generationConfig, {
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
      stopSequences: ['END'],
      maxOutputTokens: 100,
      temperature: 0.5,
      topP: 0.9,
      candidateCount: 2,
    });
    assert.deepEqual(toGeminiRequest({ messages: [], response_format: { type: 'json_object' } }).generationConfig, {
      responseMimeType: 'application/json',
    });
    assert.equal(toGeminiRequest({ messages: [], response_format: { type: 'text' } }).generationConfig, undefined);
  });

  it('builds URLs with the key in x-goog-api-key, never in the URL', () => {
    const r = chatCompletions.build(input({ model: 'models/gemini-2.0-flash', messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(r.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent');
    assert.equal(r.headers['x-goog-api-key'], 'k-123');
    assert.ok(!r.url.includes('k-123'));
    const s = chatCompletions.build(input({ model: 'gemini-2.0-flash', stream: true, messages: [] }));
    assert.equal(s.url, 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    const e = embeddings.build(input({ model: 'text-embedding-004', input: 'hi' }));
    assert.equal(e.url, 'https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:batchEmbedContents');
    assert.deepEqual(toGeminiEmbedRequest({ model: 'text-embedding-004', input: 'hi' }), {
      requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'hi' }] } }],
    });
    assert.throws(() => chatCompletions.build(input({ messages: [] })), /model/);
  });
});

describe('google: answer mapping (Gemini → OpenAI)', () => {
  it('maps embeddings as floats, or as base64 float32 little-endian when asked (the openai SDK default)', () => {
    const answer = { embeddings: [{ values: [0.5, -1.25, 0.1] }, { values: [3] }] };
    const req = input({ model: 'text-embedding-004', input: ['a', 'b'] });
    const plain = embeddings.mapResponse!(answer, req) as any;
    assert.deepEqual(
      plain.data.map((d: any) => d.embedding),
      [[0.5, -1.25, 0.1], [3]],
    );
    const b64 = embeddings.mapResponse!(answer, input({ model: 'text-embedding-004', input: ['a', 'b'], encoding_format: 'base64' })) as any;
    const floats = (s: string) => {
      const buf = Buffer.from(s, 'base64');
      return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
    };
    assert.deepEqual(
      b64.data.map((d: any) => [d.index, floats(d.embedding)]),
      [
        [0, [0.5, -1.25, Math.fround(0.1)]],
        [1, [3]],
      ],
    );
    assert.equal(b64.model, 'text-embedding-004');
  });

  it('maps a prompt blocked by promptFeedback.blockReason to content_filter', () => {
    const out = toOpenAIResponse(
      { promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } },
      'gemini-x',
    );
    assert.equal(out.choices[0].finish_reason, 'content_filter');
    assert.equal(out.choices[0].message.content, null);
    assert.equal(out.model, 'gemini-x');
    assert.equal(out.usage.prompt_tokens, 7);
  });

  it('maps finish reasons', () => {
    assert.equal(finishReason('STOP'), 'stop');
    assert.equal(finishReason('MAX_TOKENS'), 'length');
    for (const r of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']) assert.equal(finishReason(r), 'content_filter');
    assert.equal(finishReason('STOP', true), 'tool_calls');
    assert.equal(finishReason('MAX_TOKENS', true), 'length');
    const out = toOpenAIResponse({ candidates: [{ content: { parts: [] }, finishReason: 'SAFETY', index: 0 }] });
    assert.equal(out.choices[0].finish_reason, 'content_filter');
  });

  it('maps several candidates, thought parts and usage with thoughts and cache', () => {
    const out = toOpenAIResponse({
      candidates: [
        { content: { role: 'model', parts: [{ text: 'hmm', thought: true }, { text: 'A' }] }, finishReason: 'STOP', index: 0 },
        { content: { role: 'model', parts: [{ text: 'B' }] }, finishReason: 'MAX_TOKENS', index: 1 },
      ],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 4, thoughtsTokenCount: 6, cachedContentTokenCount: 3, totalTokenCount: 20 },
    });
    assert.equal(out.choices.length, 2);
    assert.equal(out.choices[0].message.content, 'A');
    assert.equal(out.choices[0].message.reasoning_content, 'hmm');
    assert.equal(out.choices[1].finish_reason, 'length');
    assert.deepEqual(toOpenAIUsage({ promptTokenCount: 10, candidatesTokenCount: 4, thoughtsTokenCount: 6, cachedContentTokenCount: 3 }), {
      prompt_tokens: 10,
      completion_tokens: 10,
      total_tokens: 20,
      prompt_tokens_details: { cached_tokens: 3 },
      completion_tokens_details: { reasoning_tokens: 6 },
    });
  });

  it("keeps a function call's thoughtSignature in extra_content.google and sends it back", () => {
    const out = toOpenAIResponse({
      candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'c2ln' }] }, finishReason: 'STOP' }],
    });
    const call = out.choices[0].message.tool_calls[0];
    assert.deepEqual(call.extra_content, { google: { thought_signature: 'c2ln' } });
    const req = toGeminiRequest({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: null, tool_calls: [call] },
      ],
    });
    assert.deepEqual(req.contents[1].parts[0], { functionCall: { name: 'f', args: {} }, thoughtSignature: 'c2ln' });
  });

  it('gives tool calls stable ids call_<index>', () => {
    const out = toOpenAIResponse({
      candidates: [
        { content: { parts: [{ functionCall: { name: 'f', args: { x: 1 } } }, { functionCall: { name: 'g', args: {} } }] }, finishReason: 'STOP' },
      ],
    });
    assert.deepEqual(
      out.choices[0].message.tool_calls.map((c: any) => c.id),
      ['call_0', 'call_1'],
    );
    assert.equal(out.choices[0].finish_reason, 'tool_calls');
  });

  it('streams a safety block as content_filter and ends with [DONE]', () => {
    const t = new GoogleStreamTransformer(false, 'gemini-x');
    const evs = ([] as SSEEvent[]).concat(t.transform({ data: JSON.stringify({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }) }) ?? []);
    evs.push(...([] as SSEEvent[]).concat(t.flush() ?? []));
    const chunks = evs.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'content_filter');
    assert.equal(evs.at(-1)!.data, '[DONE]');
  });

  it('reports a stream that ends without a finishReason as an error', () => {
    const t = new GoogleStreamTransformer(false, 'gemini-x');
    t.transform({ data: JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hi' }] }, index: 0 }] }) });
    const end = t.flush() as SSEEvent;
    assert.match(JSON.parse(end.data).error.message, /ended before/);
  });

  it('maps error bodies: status kept, RESOURCE_EXHAUSTED/UNAVAILABLE retryable', () => {
    const e1 = mapGoogleError(429, { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } }, {});
    assert.equal(e1.status, 429);
    assert.equal(e1.retryable, true);
    assert.equal(e1.message, 'quota');
    const e2 = mapGoogleError(400, [{ error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } }], {});
    assert.equal(e2.retryable, false);
    assert.equal(e2.message, 'bad');
  });
});
