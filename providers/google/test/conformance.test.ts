// The Google (Gemini API) adapter against the provider conformance kit, with answers recorded in
// Gemini's documented wire format: GenerateContentResponse JSON, `streamGenerateContent?alt=sse`
// transcripts (each event one GenerateContentResponse), batchEmbedContents and google.rpc error bodies.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const sse = (obj: object) => `data: ${JSON.stringify(obj)}\r\n\r\n`;
const usage = (p: number, c: number, extra: object = {}) => ({ promptTokenCount: p, candidatesTokenCount: c, totalTokenCount: p + c, ...extra });
const textChunk = (text: string, finishReason?: string, usageMetadata?: object) =>
  sse({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    ...(usageMetadata ? { usageMetadata } : {}),
    modelVersion: 'gemini-2.0-flash',
    responseId: 'resp-abc',
  });

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

runProviderConformance('google', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'google',
  basePath: '/v1beta',
  chat: {
    request: { model: 'gemini-2.0-flash', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: {
      status: 200,
      body: {
        candidates: [
          {
            content: { parts: [{ text: 'Hello!' }], role: 'model' },
            finishReason: 'STOP',
            index: 0,
            safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' }],
          },
        ],
        usageMetadata: { promptTokenCount: 19, candidatesTokenCount: 3, totalTokenCount: 27, cachedContentTokenCount: 4, thoughtsTokenCount: 5 },
        modelVersion: 'gemini-2.0-flash',
        responseId: 'resp-1',
      },
    },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27, cached_tokens: 4 } },
    upstream: {
      method: 'POST',
      path: '/v1beta/models/gemini-2.0-flash:generateContent',
      headers: { 'x-goog-api-key': /^conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }],
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          generationConfig: { maxOutputTokens: 50, temperature: 0.2 },
        }),
    },
  },
  stream: {
    request: { model: 'gemini-2.0-flash', messages: MESSAGES },
    answer: {
      body: [
        textChunk('Hel', undefined, usage(19, 1)),
        textChunk('lo, wörld', undefined, usage(19, 3)),
        textChunk(' 👋', undefined, usage(19, 4)),
        textChunk('!', 'STOP', usage(19, 5, { cachedContentTokenCount: 8 })),
      ],
    },
    expect: { content: 'Hello, wörld 👋!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 5, cached_tokens: 8 } },
    upstream: {
      path: '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
      headers: { 'x-goog-api-key': /^conformance-test-key-/ },
      body: (json) => assert.equal(json.stream, undefined),
    },
  },
  toolCalls: {
    request: {
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    },
    answer: {
      body: {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: usage(60, 30),
        modelVersion: 'gemini-2.0-flash',
      },
    },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
      usage: { prompt_tokens: 60, completion_tokens: 30 },
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.function.parameters }] }]);
        assert.deepEqual(json.toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
      },
    },
  },
  streamToolCalls: {
    request: { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: {
      body: [
        sse({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, index: 0 }], usageMetadata: usage(50, 0), modelVersion: 'gemini-2.0-flash' }),
        sse({
          candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP', index: 0 }],
          usageMetadata: usage(50, 12),
          modelVersion: 'gemini-2.0-flash',
        }),
      ],
    },
    expect: { finish_reason: 'tool_calls', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], usage: { prompt_tokens: 50, completion_tokens: 12 } },
  },
  embeddings: {
    request: { model: 'text-embedding-004', input: ['a', 'b'], dimensions: 3 },
    answer: { body: { embeddings: [{ values: [0.1, 0.2, 0.3] }, { values: [0.4, 0.5, 0.6] }] } },
    expect: { count: 2, dimensions: 3 },
    upstream: {
      path: '/v1beta/models/text-embedding-004:batchEmbedContents',
      headers: { 'x-goog-api-key': /^conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, {
          requests: [
            { model: 'models/text-embedding-004', content: { parts: [{ text: 'a' }] }, outputDimensionality: 3 },
            { model: 'models/text-embedding-004', content: { parts: [{ text: 'b' }] }, outputDimensionality: 3 },
          ],
        }),
    },
  },
  errors: [
    {
      answer: { status: 429, body: googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).') },
      expect: { status: 429, retryable: true, message: 'Resource has been exhausted' },
    },
    {
      answer: { status: 503, body: googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.') },
      expect: { status: 503, retryable: true, message: /model is overloaded/ },
    },
    {
      answer: { status: 500, body: googleError(500, 'INTERNAL', 'An internal error has occurred.') },
      expect: { status: 500, retryable: true, message: /internal error/ },
    },
    {
      answer: { status: 400, body: googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unknown name "foo": Cannot find field.') },
      expect: { status: 400, retryable: false, message: /Invalid JSON payload/ },
    },
    {
      answer: { status: 403, body: googleError(403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers.') },
      expect: { status: 403, retryable: false, message: /unregistered callers/ },
    },
  ],
});
