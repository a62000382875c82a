// The SageMaker adapter for a Hugging Face TGI container (`sagemaker_format: "tgi"`) against the provider
// conformance kit: TGI's `[{generated_text, details}]` answer through InvokeEndpoint, its generate_stream
// events in InvokeEndpointWithResponseStream's PayloadParts (cut mid-event and inside `ö`), and the
// container's errors as SageMaker wraps them (ModelError), all from test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { ENDPOINT, KEYS, eventStreamFixture, jsonFixture } from './fixtures.js';

const STREAM_HEADERS = jsonFixture('stream-headers');
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const PROMPT = 'Be brief.\n\nUser: Say hello\n\nAssistant:';
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/sagemaker\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/;

runProviderConformance('sagemaker (TGI container)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'sagemaker',
  target: { ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT, sagemaker_format: 'tgi' },
  chat: {
    request: { model: 'tgi-llm', messages: MESSAGES, temperature: 0.2, max_tokens: 50, stop: ['END'] },
    answer: { status: 200, headers: { 'x-amzn-invoked-production-variant': 'AllTraffic' }, body: jsonFixture('tgi-answer') },
    expect: { content: 'Hello! How can I help?', finish_reason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 7 } },
    upstream: {
      method: 'POST',
      path: `/endpoints/${ENDPOINT}/invocations`,
      headers: { authorization: SIGV4, 'content-type': 'application/json', accept: 'application/json' },
      body: (json) => assert.deepEqual(json, { inputs: PROMPT, parameters: { max_new_tokens: 50, temperature: 0.2, stop: ['END'], details: true } }),
    },
  },
  stream: {
    request: { model: 'tgi-llm', messages: MESSAGES },
    answer: { headers: STREAM_HEADERS, body: eventStreamFixture('tgi-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 5 } },
    upstream: {
      path: `/endpoints/${ENDPOINT}/invocations-response-stream`,
      headers: { authorization: SIGV4, accept: 'application/vnd.amazon.eventstream' },
      body: (json) => assert.deepEqual(json, { inputs: PROMPT, parameters: { details: true }, stream: true }),
    },
  },
  errors: [
    {
      answer: jsonFixture('tgi-error-validation'),
      expect: { status: 422, retryable: false, message: /ModelError: the model container answered 422: .*must be <= 4096/ },
    },
    {
      answer: jsonFixture('tgi-error-overloaded'),
      expect: { status: 429, retryable: true, message: /ModelError: the model container answered 429: .*Model is overloaded/ },
    },
    { answer: jsonFixture('error-throttled'), expect: { status: 429, retryable: true, message: /ThrottlingException: Rate exceeded/ } },
    { answer: jsonFixture('error-internal'), expect: { status: 500, retryable: true, message: /InternalFailure: An internal failure occurred/ } },
  ],
});
