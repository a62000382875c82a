// The Vertex AI adapter with a Gemini model against the provider conformance kit: access-token auth
// (the target's key as the bearer), recordings in Vertex's Gemini wire format (test/fixtures/).
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const PREFIX = '/v1/projects/conf-proj/locations/us-central1/publishers/google/models';
const BEARER = /^Bearer conformance-test-key-/;

runProviderConformance('vertex-ai (Gemini)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'vertex-ai',
  basePath: '/v1',
  target: { vertex_project_id: 'conf-proj', vertex_region: 'us-central1' },
  chat: {
    request: { model: 'gemini-2.0-flash', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, body: jsonFixture('gemini-text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 8, total_tokens: 27, cached_tokens: 4 } },
    upstream: {
      method: 'POST',
      path: `${PREFIX}/gemini-2.0-flash:generateContent`,
      headers: { authorization: BEARER, 'content-type': 'application/json' },
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
    answer: { body: sseFixture('gemini-text-stream') },
    expect: { content: 'Hello, wörld 👋!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 5, cached_tokens: 8 } },
    upstream: {
      path: `${PREFIX}/gemini-2.0-flash:streamGenerateContent?alt=sse`,
      headers: { authorization: BEARER },
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
    answer: { body: jsonFixture('gemini-tool-answer') },
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
    answer: { body: sseFixture('gemini-tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'text-embedding-005', input: ['a', 'b'], dimensions: 3 },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: {
      path: `${PREFIX}/text-embedding-005:predict`,
      headers: { authorization: BEARER },
      body: (json) => assert.deepEqual(json, { instances: [{ content: 'a' }, { content: 'b' }], parameters: { outputDimensionality: 3 } }),
    },
  },
  errors: [
    {
      answer: { status: 429, body: jsonFixture('gemini-error-resource-exhausted') },
      expect: { status: 429, retryable: true, message: 'Resource exhausted' },
    },
    {
      answer: { status: 503, body: jsonFixture('gemini-error-unavailable') },
      expect: { status: 503, retryable: true, message: /currently unavailable/ },
    },
    {
      answer: { status: 500, body: jsonFixture('gemini-error-internal') },
      expect: { status: 500, retryable: true, message: /Internal error/ },
    },
    {
      answer: { status: 400, body: jsonFixture('gemini-error-invalid-argument') },
      expect: { status: 400, retryable: false, message: /invalid argument/ },
    },
    {
      answer: { status: 401, body: jsonFixture('gemini-error-unauthenticated') },
      expect: { status: 401, retryable: false, message: /Expected OAuth 2 access token/ },
    },
    {
      answer: { status: 404, body: jsonFixture('gemini-error-not-found') },
      expect: { status: 404, retryable: false, message: /was not found/ },
    },
  ],
});
