// The Mistral adapter against the provider conformance kit, twice: chat on OpenAI's wire (with
// Mistral's field names), and chat as Codestral fill-in-the-middle under Portkey's
// mistral_fim_completion option.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, sseFixture } from './fixtures.js';

const MODULE = new URL('../src/index.js', import.meta.url).href;
const WEATHER = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

runProviderConformance('mistral-ai', {
  module: MODULE,
  provider: 'mistral-ai',
  basePath: '/v1',
  chat: {
    request: {
      model: 'mistral-small-latest',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      max_completion_tokens: 20,
      seed: 7,
    },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello there!', finish_reason: 'stop', usage: { prompt_tokens: 16, completion_tokens: 3 } },
    upstream: {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'mistral-small-latest',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Say hello' },
          ],
          max_tokens: 20,
          random_seed: 7,
        }),
    },
  },
  stream: {
    request: { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Say hello' }] },
    answer: { body: sseFixture('chat-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 16, completion_tokens: 5 } },
    upstream: { path: '/v1/chat/completions' },
  },
  toolCalls: {
    request: { model: 'mistral-large-latest', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER], tool_choice: 'auto' },
    answer: { body: jsonFixture('tool-answer') },
    expect: { content: '', finish_reason: 'tool_calls', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
    upstream: { body: (json) => assert.deepEqual(json.tools, [WEATHER]) },
  },
  embeddings: {
    request: { model: 'mistral-embed', input: ['a', 'b'], encoding_format: 'float' },
    answer: { body: jsonFixture('embeddings-answer') },
    expect: { count: 2, dimensions: 4 },
    upstream: { path: '/v1/embeddings' },
  },
  errors: [
    { answer: { status: 401, body: jsonFixture('error-unauthorized') }, expect: { status: 401, retryable: false, message: 'mistral-ai: Unauthorized' } },
    { answer: { status: 401, body: jsonFixture('error-unauthorized-request-id') }, expect: { status: 401, retryable: false, message: 'Unauthorized' } },
    {
      answer: { status: 422, body: jsonFixture('error-extra-forbidden') },
      expect: { status: 422, retryable: false, message: 'body.store: Extra inputs are not permitted' },
    },
    { answer: { status: 400, body: jsonFixture('error-invalid') }, expect: { status: 400, retryable: false, message: /either content or tool_calls/ } },
    {
      answer: { status: 429, body: jsonFixture('error-rate-limited') },
      expect: { status: 429, retryable: true, message: 'Requests rate limit exceeded' },
    },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: 'Service unavailable.' } },
  ],
});

runProviderConformance('mistral-ai (mistral_fim_completion)', {
  module: MODULE,
  provider: 'mistral-ai',
  basePath: '/v1',
  target: { mistral_fim_completion: true },
  chat: {
    request: {
      model: 'codestral-latest',
      messages: [{ role: 'user', content: 'ignored' }],
      prompt: 'def fibonacci(n):\n',
      suffix: '\nprint(fibonacci(10))',
      max_tokens: 64,
      seed: 1,
    },
    answer: { status: 200, body: jsonFixture('fim-answer') },
    expect: {
      content: '    if n <= 1:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n',
      finish_reason: 'stop',
      usage: { prompt_tokens: 8, completion_tokens: 91 },
    },
    upstream: {
      method: 'POST',
      path: '/v1/fim/completions',
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'codestral-latest',
          prompt: 'def fibonacci(n):\n',
          suffix: '\nprint(fibonacci(10))',
          max_tokens: 64,
          random_seed: 1,
        }),
    },
  },
  stream: {
    request: { model: 'codestral-latest', messages: [{ role: 'user', content: 'def add(a, b):\n' }] },
    answer: { body: sseFixture('fim-stream') },
    expect: { content: '    return a + b', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 4 } },
    upstream: {
      path: '/v1/fim/completions',
      body: (json) => assert.deepEqual(json, { model: 'codestral-latest', prompt: 'def add(a, b):\n', stream: true }),
    },
  },
  errors: [
    {
      answer: { status: 429, body: jsonFixture('error-rate-limited') },
      expect: { status: 429, retryable: true, message: 'Requests rate limit exceeded' },
    },
  ],
});
