// The Triton adapter against the provider conformance kit, with answers in the generate extension's
// documented shapes (`{model_name, model_version, text_output}`, /generate_stream's SSE events, the
// `{"error": "..."}` body) in test/fixtures/. The custom host is the server's root.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('triton', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'triton',
  chat: {
    request: { model: 'ensemble', messages: MESSAGES, temperature: 0.2, max_tokens: 50, top_p: 0.9, stop: ['User:'] },
    answer: { status: 200, body: jsonFixture('generate-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop' },
    upstream: {
      method: 'POST',
      path: '/v2/models/ensemble/generate',
      headers: { 'content-type': 'application/json', authorization: /^Bearer conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, {
          text_input: 'System: Be brief.\nUser: Say hello\nAssistant:',
          parameters: { max_tokens: 50, temperature: 0.2, top_p: 0.9, stop_words: ['User:'], stream: false },
        }),
    },
  },
  stream: {
    request: { model: 'ensemble', messages: MESSAGES },
    answer: { body: sseFixture('generate-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop' },
    upstream: {
      path: '/v2/models/ensemble/generate_stream',
      headers: { accept: 'text/event-stream' },
      body: (json) => assert.deepEqual(json, { text_input: 'System: Be brief.\nUser: Say hello\nAssistant:', parameters: { stream: true } }),
    },
  },
  errors: [
    {
      answer: { status: 400, body: jsonFixture('error-unknown-model') },
      expect: { status: 400, retryable: false, message: "triton: Request for unknown model: 'llama9' is not found" },
    },
    { answer: { status: 503, body: jsonFixture('error-queue') }, expect: { status: 503, retryable: true, message: 'triton: Exceeds maximum queue size' } },
    {
      answer: { status: 500, body: jsonFixture('error-inference') },
      expect: { status: 500, retryable: true, message: /exceeds the maximum sequence length/ },
    },
    { answer: { status: 401, body: 'Unauthorized' }, expect: { status: 401, retryable: false, message: 'triton: Unauthorized' } },
    { answer: { status: 429, body: { error: 'rate limited' } }, expect: { status: 429, retryable: true, message: 'triton: rate limited' } },
  ],
});
