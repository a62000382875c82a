// The Azure OpenAI adapter against the provider conformance kit, with answers recorded in Azure
// OpenAI's documented wire format (OpenAI's Chat Completions shapes plus Azure's prompt_filter_results
// and content_filter_results, its streaming chunks, embeddings and error bodies) in test/fixtures/.
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

const DEPLOYMENT_PATH = /^\/openai\/deployments\/gpt4o-prod\/chat\/completions\?api-version=2024-10-21$/;

runProviderConformance('azure-openai', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'azure-openai',
  target: { resource_name: 'my-resource', deployment_id: 'gpt4o-prod', api_version: '2024-10-21' },
  chat: {
    request: { model: 'gpt-4o', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, headers: { 'apim-request-id': '6c3b-az', 'x-ms-region': 'East US' }, body: jsonFixture('text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 3, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: DEPLOYMENT_PATH,
      headers: { 'api-key': /^conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) => assert.deepEqual(json, { model: 'gpt-4o', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }),
    },
  },
  stream: {
    request: { model: 'gpt-4o', messages: MESSAGES },
    answer: { body: sseFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 4 } },
    upstream: { path: DEPLOYMENT_PATH, body: (json) => assert.equal(json.stream, true) },
  },
  toolCalls: {
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
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
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'text-embedding-3-small', input: ['a', 'b'] },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: { path: /^\/openai\/deployments\/gpt4o-prod\/embeddings\?api-version=2024-10-21$/ },
  },
  errors: [
    {
      answer: { status: 429, headers: { 'retry-after': '4' }, body: jsonFixture('error-rate-limited') },
      expect: { status: 429, retryable: true, message: /exceeded token rate limit/ },
    },
    {
      answer: { status: 400, body: jsonFixture('error-content-filter') },
      expect: { status: 400, retryable: false, message: /content management policy/ },
    },
    {
      answer: { status: 401, body: jsonFixture('error-unauthorized') },
      expect: { status: 401, retryable: false, message: /Access denied/ },
    },
    {
      answer: { status: 404, body: jsonFixture('error-deployment-not-found') },
      expect: { status: 404, retryable: false, message: /deployment for this resource does not exist/ },
    },
    {
      answer: { status: 500, body: jsonFixture('error-server') },
      expect: { status: 500, retryable: true, message: /server had an error/ },
    },
  ],
});

// The v1 form: /openai/v1/... with no api-version query; the model comes from the body.
runProviderConformance('azure-openai (v1 API)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'azure-openai',
  target: { resource_name: 'my-resource', api_version: 'v1' },
  chat: {
    request: { model: 'gpt-4o', messages: MESSAGES },
    answer: { body: jsonFixture('v1-text-answer') },
    expect: { content: 'Hi.', finish_reason: 'stop', usage: { prompt_tokens: 10, completion_tokens: 2 } },
    upstream: {
      path: '/openai/v1/chat/completions',
      headers: { 'api-key': /^conformance-test-key-/ },
      body: (json) => assert.equal(json.model, 'gpt-4o'),
    },
  },
  errors: [
    {
      answer: { status: 429, body: jsonFixture('v1-error-rate-limited') },
      expect: { status: 429, retryable: true, message: /Rate limit is exceeded/ },
    },
  ],
});
