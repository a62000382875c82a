// The Google (Gemini API) adapter against the provider conformance kit, with answers recorded in
// Gemini's documented wire format: GenerateContentResponse JSON, `streamGenerateContent?alt=sse`
// transcripts (each event one GenerateContentResponse), batchEmbedContents and google.rpc error bodies,
// in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

runProviderConformance('google', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'google',
  basePath: '/v1beta',
  chat: {
    request: { model: 'gemini-2.0-flash', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, body: jsonFixture('text-answer') },
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
    answer: { body: sseFixture('text-stream') },
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
    answer: { body: jsonFixture('tool-answer') },
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
        assert.deepEqual(json.tools, [
          { functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.function.parameters }] },
        ]);
        assert.deepEqual(json.toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
      },
    },
  },
  streamToolCalls: {
    request: { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'text-embedding-004', input: ['a', 'b'], dimensions: 3 },
    answer: { body: jsonFixture('embed-answer') },
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
      answer: { status: 429, body: jsonFixture('error-resource-exhausted') },
      expect: { status: 429, retryable: true, message: 'Resource has been exhausted' },
    },
    {
      answer: { status: 503, body: jsonFixture('error-unavailable') },
      expect: { status: 503, retryable: true, message: /model is overloaded/ },
    },
    {
      answer: { status: 500, body: jsonFixture('error-internal') },
      expect: { status: 500, retryable: true, message: /internal error/ },
    },
    {
      answer: { status: 400, body: jsonFixture('error-invalid-argument') },
      expect: { status: 400, retryable: false, message: /Invalid JSON payload/ },
    },
    {
      answer: { status: 403, body: jsonFixture('error-permission-denied') },
      expect: { status: 403, retryable: false, message: /unregistered callers/ },
    },
  ],
});
