// The Anthropic adapter against the provider conformance kit, with answers recorded in Anthropic's wire format
// (test/fixtures/).
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('anthropic', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'anthropic',
  basePath: '/v1',
  chat: {
    request: { model: 'claude-sonnet-4-5', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, headers: { 'request-id': 'req_011CV' }, body: jsonFixture('text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 6, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: '/v1/messages',
      headers: { 'x-api-key': /^conformance-test-key-/, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'claude-sonnet-4-5',
          max_tokens: 50,
          system: 'Be brief.',
          messages: [{ role: 'user', content: 'Say hello' }],
          temperature: 0.2,
        }),
    },
  },
  stream: {
    request: { model: 'claude-sonnet-4-5', messages: MESSAGES },
    answer: { body: sseFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 27, completion_tokens: 4, cached_tokens: 8 } },
    upstream: {
      path: '/v1/messages',
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.max_tokens, 4096);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    },
    answer: { body: jsonFixture('tool-answer') },
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
    request: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      content: 'Checking.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  errors: [
    { answer: { status: 529, body: jsonFixture('error-overloaded') }, expect: { status: 529, retryable: true, message: 'Overloaded' } },
    {
      answer: { status: 429, headers: { 'retry-after': '3' }, body: jsonFixture('error-rate-limited') },
      expect: { status: 429, retryable: true, message: /rate limit/ },
    },
    { answer: { status: 500, body: jsonFixture('error-api') }, expect: { status: 500, retryable: true, message: 'Internal server error' } },
    { answer: { status: 400, body: jsonFixture('error-invalid') }, expect: { status: 400, retryable: false, message: /max_tokens/ } },
    { answer: { status: 401, body: jsonFixture('error-unauthorized') }, expect: { status: 401, retryable: false, message: /x-api-key/ } },
  ],
});
