// The Predibase adapter against the provider conformance kit: a tenant's deployment, a fine-tuned
// adapter named in the model, answers recorded in Predibase's (LoRAX's) documented format.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [{ role: 'user', content: 'Classify: I love it' }];

runProviderConformance('predibase', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'predibase',
  target: { predibase_tenant_id: 'tenant-1' },
  chat: {
    request: { model: 'llama-3-8b:sentiment/1', messages: MESSAGES, max_tokens: 8, temperature: 0.1 },
    answer: { status: 200, body: jsonFixture('generate-answer') },
    expect: { content: 'Positive', finish_reason: 'stop', usage: { prompt_tokens: 18, completion_tokens: 2 } },
    upstream: {
      method: 'POST',
      path: '/tenant-1/deployments/v2/llms/llama-3-8b/generate',
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, {
          inputs: 'Classify: I love it',
          parameters: { adapter_id: 'sentiment/1', adapter_source: 'pbase', max_new_tokens: 8, temperature: 0.1, details: true },
        }),
    },
  },
  stream: {
    request: { model: 'llama-3-8b', messages: MESSAGES },
    answer: { body: sseFixture('stream') },
    expect: { content: 'Positive', finish_reason: 'stop', usage: { prompt_tokens: 18, completion_tokens: 3 } },
    upstream: {
      path: '/tenant-1/deployments/v2/llms/llama-3-8b/generate_stream',
      body: (json) => assert.deepEqual(json.parameters, { details: true }),
    },
  },
  errors: [
    { answer: { status: 422, body: jsonFixture('error-validation') }, expect: { status: 422, retryable: false, message: /strictly positive/ } },
    {
      answer: { status: 424, body: jsonFixture('error-generation') },
      expect: { status: 424, retryable: false, message: /adapter sentiment\/9 not found/ },
    },
    { answer: { status: 429, body: jsonFixture('error-overloaded') }, expect: { status: 429, retryable: true, message: 'Model is overloaded' } },
    { answer: { status: 500, body: jsonFixture('error-incomplete') }, expect: { status: 500, retryable: true, message: 'Incomplete generation' } },
    { answer: { status: 401, body: 'Unauthorized' }, expect: { status: 401, retryable: false, message: 'predibase: Unauthorized' } },
  ],
});
