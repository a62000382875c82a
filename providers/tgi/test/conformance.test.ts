// The TGI adapter against the provider conformance kit, with answers recorded in TGI's documented
// wire format (GenerateResponse, the StreamResponse event stream, ErrorResponse) in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('tgi', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'tgi',
  chat: {
    request: { model: 'tgi', messages: MESSAGES, temperature: 0.2, max_tokens: 50, top_p: 0.9, stop: ['END'], seed: 3 },
    answer: { status: 200, body: jsonFixture('generate-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 0, completion_tokens: 10 } },
    upstream: {
      method: 'POST',
      path: '/generate',
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          inputs: 'Be brief.\n\nUser: Say hello\n\nAssistant:',
          parameters: { max_new_tokens: 50, temperature: 0.2, top_p: 0.9, stop: ['END'], seed: 3, details: true },
        }),
    },
  },
  stream: {
    request: { model: 'tgi', messages: MESSAGES },
    answer: { body: sseFixture('stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 5 } },
    upstream: {
      path: '/generate_stream',
      headers: { accept: 'text/event-stream' },
      body: (json) => {
        assert.equal(json.inputs, 'Be brief.\n\nUser: Say hello\n\nAssistant:');
        assert.deepEqual(json.parameters, { details: true });
        assert.equal(json.stream, undefined);
      },
    },
  },
  errors: [
    { answer: { status: 422, body: jsonFixture('error-validation') }, expect: { status: 422, retryable: false, message: /must be <= 4096/ } },
    { answer: { status: 424, body: jsonFixture('error-generation') }, expect: { status: 424, retryable: false, message: /CUDA out of memory/ } },
    { answer: { status: 429, body: jsonFixture('error-overloaded') }, expect: { status: 429, retryable: true, message: 'Model is overloaded' } },
    { answer: { status: 500, body: jsonFixture('error-incomplete') }, expect: { status: 500, retryable: true, message: 'Incomplete generation' } },
    { answer: { status: 401, body: jsonFixture('error-unauthorized') }, expect: { status: 401, retryable: false, message: /token seems invalid/ } },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: 'Service Unavailable' } },
  ],
});
