// The Bytez adapter against the provider conformance kit, with answers in Bytez's documented
// models/v2 wire format ({error, output}, a plain-text stream) recorded in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, streamFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('bytez', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'bytez',
  basePath: '/models/v2',
  chat: {
    request: { model: 'Qwen/Qwen3-4B', messages: MESSAGES, max_tokens: 64, temperature: 0.2, top_p: 0.9 },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop' },
    upstream: {
      method: 'POST',
      path: '/models/v2/Qwen/Qwen3-4B',
      headers: { authorization: 'Key conformance-test-key-0123456789', 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          messages: [
            { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
            { role: 'user', content: [{ type: 'text', text: 'Say hello' }] },
          ],
          stream: false,
          params: { max_new_tokens: 64, temperature: 0.2, top_p: 0.9 },
        }),
    },
  },
  stream: {
    request: { model: 'Qwen/Qwen3-4B', messages: MESSAGES },
    answer: { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: streamFixture('chat-stream') },
    expect: { content: 'Hello, wörld! How can I help?', finish_reason: 'stop' },
    upstream: {
      path: '/models/v2/Qwen/Qwen3-4B',
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.stream_options, undefined);
        assert.deepEqual(json.params, {});
      },
    },
  },
  errors: [
    {
      answer: { status: 400, body: jsonFixture('error-bad-request') },
      expect: { status: 400, retryable: false, message: /Invalid input: messages\[0\]/ },
    },
    {
      answer: { status: 401, body: jsonFixture('error-unauthorized') },
      expect: { status: 401, retryable: false, message: 'Unauthorized: your key is invalid' },
    },
    { answer: { status: 404, body: jsonFixture('error-not-found') }, expect: { status: 404, retryable: false, message: 'Model not found' } },
    { answer: { status: 429, body: jsonFixture('error-rate-limited') }, expect: { status: 429, retryable: true, message: 'bytez: Rate limit exceeded' } },
    { answer: { status: 500, body: jsonFixture('error-server') }, expect: { status: 500, retryable: true, message: 'Internal server error' } },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: /Model is loading/ } },
    {
      answer: { status: 200, body: jsonFixture('error-in-answer') },
      expect: { status: 502, retryable: false, message: /exceeds the model's context length/ },
    },
  ],
});
