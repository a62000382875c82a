// The PaLM adapter against the provider conformance kit, with answers in the PaLM API's documented
// format (generateMessage, embedText, Google's error bodies) recorded in test/fixtures/. PaLM does not
// stream: a streamed request gets its one JSON answer as chunks.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'hi' },
];

runProviderConformance('palm', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'palm',
  basePath: '/v1beta3',
  chat: {
    request: { model: 'chat-bison-001', messages: MESSAGES, temperature: 0.1, top_p: 0.9, top_k: 40, n: 1 },
    answer: { status: 200, body: jsonFixture('message-answer') },
    expect: { content: 'Hi there! How can I help you today?', finish_reason: 'stop' },
    upstream: {
      method: 'POST',
      path: '/v1beta3/models/chat-bison-001:generateMessage',
      headers: { 'x-goog-api-key': 'conformance-test-key-0123456789', 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          prompt: { context: 'Be brief.', messages: [{ author: 'user', content: 'hi' }] },
          temperature: 0.1,
          topP: 0.9,
          topK: 40,
          candidateCount: 1,
        }),
    },
  },
  stream: {
    request: { model: 'models/chat-bison-001', messages: MESSAGES },
    answer: { headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonFixture('message-answer')) },
    expect: { content: 'Hi there! How can I help you today?', finish_reason: 'stop' },
    upstream: {
      path: '/v1beta3/models/chat-bison-001:generateMessage',
      body: (json) => {
        assert.equal(json.stream, undefined);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  embeddings: {
    request: { model: 'embedding-gecko-001', input: ['hello', 'goodbye'] },
    answer: { body: jsonFixture('batch-embed-answer') },
    expect: { count: 2, dimensions: 4 },
    upstream: {
      path: '/v1beta3/models/embedding-gecko-001:batchEmbedText',
      headers: { 'x-goog-api-key': 'conformance-test-key-0123456789' },
      body: (json) => assert.deepEqual(json, { texts: ['hello', 'goodbye'] }),
    },
  },
  errors: [
    { answer: { status: 400, body: jsonFixture('error-invalid-key') }, expect: { status: 400, retryable: false, message: 'API key not valid' } },
    { answer: { status: 403, body: jsonFixture('error-permission') }, expect: { status: 403, retryable: false, message: /has not been used in project/ } },
    {
      answer: { status: 404, body: jsonFixture('error-not-found') },
      expect: { status: 404, retryable: false, message: /is not found for API version v1beta3/ },
    },
    { answer: { status: 429, body: jsonFixture('error-quota') }, expect: { status: 429, retryable: true, message: 'palm: Resource has been exhausted' } },
    { answer: { status: 500, body: jsonFixture('error-internal') }, expect: { status: 500, retryable: true, message: /internal error has occurred/ } },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: 'currently unavailable' } },
  ],
});
