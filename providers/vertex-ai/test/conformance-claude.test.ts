// The Vertex AI adapter with a Claude model (Anthropic on Vertex) against the provider conformance
// kit: access-token auth, recordings in the rawPredict / streamRawPredict wire format (test/fixtures/).
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const PREFIX = '/v1/projects/conf-proj/locations/us-east5/publishers/anthropic/models';
const MODEL = 'claude-sonnet-4-5@20250929';

runProviderConformance('vertex-ai (Claude)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'vertex-ai',
  basePath: '/v1',
  target: { vertex_project_id: 'conf-proj', vertex_region: 'us-east5' },
  chat: {
    request: { model: MODEL, messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, body: jsonFixture('claude-text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 6, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: `${PREFIX}/${MODEL}:rawPredict`,
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          anthropic_version: 'vertex-2023-10-16',
          max_tokens: 50,
          system: 'Be brief.',
          messages: [{ role: 'user', content: 'Say hello' }],
          temperature: 0.2,
        }),
    },
  },
  stream: {
    request: { model: MODEL, messages: MESSAGES },
    answer: { body: sseFixture('claude-text-stream') },
    expect: { content: 'Olá, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 27, completion_tokens: 7, cached_tokens: 8 } },
    upstream: {
      path: `${PREFIX}/${MODEL}:streamRawPredict`,
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.model, undefined);
        assert.equal(json.anthropic_version, 'vertex-2023-10-16');
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: { body: jsonFixture('claude-tool-answer') },
    expect: {
      content: 'I will check both.',
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
      usage: { prompt_tokens: 420, completion_tokens: 40, cached_tokens: 300 },
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [{ name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER_TOOL.function.parameters }]);
        assert.deepEqual(json.tool_choice, { type: 'auto' });
      },
    },
  },
  streamToolCalls: {
    request: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('claude-tool-stream') },
    expect: {
      content: 'Checking.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  errors: [
    { answer: { status: 529, body: jsonFixture('claude-error-overloaded') }, expect: { status: 529, retryable: true, message: 'Overloaded' } },
    {
      // Vertex's own quota error, in google.rpc form, for a Claude model.
      answer: { status: 429, body: jsonFixture('claude-error-resource-exhausted') },
      expect: { status: 429, retryable: true, message: /Quota exceeded/ },
    },
    { answer: { status: 500, body: jsonFixture('claude-error-api') }, expect: { status: 500, retryable: true, message: 'Internal server error' } },
    { answer: { status: 400, body: jsonFixture('claude-error-invalid') }, expect: { status: 400, retryable: false, message: /max_tokens/ } },
    {
      answer: { status: 403, body: jsonFixture('claude-error-permission-denied') },
      expect: { status: 403, retryable: false, message: /aiplatform\.endpoints\.predict/ },
    },
  ],
});
