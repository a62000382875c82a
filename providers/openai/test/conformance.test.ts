// The OpenAI adapter against the provider conformance kit, with answers recorded in OpenAI's
// documented wire format (Chat Completions, its streaming chunks, embeddings and error bodies) in
// test/fixtures/.
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

runProviderConformance('openai', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'openai',
  basePath: '/v1',
  chat: {
    request: { model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, headers: { 'x-request-id': 'req_abc' }, body: jsonFixture('text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 3, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) => assert.deepEqual(json, { model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }),
    },
  },
  stream: {
    request: { model: 'gpt-4o-mini', messages: MESSAGES },
    answer: { body: sseFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 4, cached_tokens: 8 } },
    upstream: { path: '/v1/chat/completions', body: (json) => assert.deepEqual(json.stream_options, { include_usage: true }) },
  },
  toolCalls: {
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    },
    upstream: { body: (json) => assert.deepEqual(json.tools, [WEATHER_TOOL]) },
  },
  streamToolCalls: {
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 3 },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: { path: '/v1/embeddings' },
  },
  errors: [
    {
      answer: { status: 429, headers: { 'retry-after': '2' }, body: jsonFixture('error-rate-limited') },
      expect: { status: 429, retryable: true, message: 'Rate limit reached' },
    },
    {
      answer: { status: 500, body: jsonFixture('error-server') },
      expect: { status: 500, retryable: true, message: /server had an error/ },
    },
    {
      answer: { status: 400, body: jsonFixture('error-invalid') },
      expect: { status: 400, retryable: false, message: /temperature/ },
    },
    {
      answer: { status: 401, body: jsonFixture('error-unauthorized') },
      expect: { status: 401, retryable: false, message: /Incorrect API key/ },
    },
  ],
});
