// The SageMaker adapter against the provider conformance kit: OpenAI-shaped container answers through
// InvokeEndpoint, InvokeEndpointWithResponseStream's event-stream frames (PayloadParts cut mid-event and
// mid-character), and SageMaker Runtime's error answers, all from test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { ENDPOINT, KEYS, WEATHER_TOOL, eventStreamFixture, jsonFixture } from './fixtures.js';

const STREAM_HEADERS = jsonFixture('stream-headers');
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/sagemaker\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/;

runProviderConformance('sagemaker', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'sagemaker',
  target: { ...KEYS, amzn_sagemaker_endpoint_name: ENDPOINT },
  chat: {
    request: { model: 'lmi', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: { status: 200, headers: { 'x-amzn-invoked-production-variant': 'AllTraffic' }, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 3 } },
    upstream: {
      method: 'POST',
      path: `/endpoints/${ENDPOINT}/invocations`,
      headers: {
        authorization: SIGV4,
        'x-amz-date': /^\d{8}T\d{6}Z$/,
        'x-amz-security-token': KEYS.aws_session_token,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: (json) => assert.deepEqual(json, { model: 'lmi', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }),
    },
  },
  stream: {
    request: { model: 'lmi', messages: MESSAGES, stream_options: { include_usage: true } },
    answer: { headers: STREAM_HEADERS, body: eventStreamFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 9, completion_tokens: 4 } },
    upstream: {
      path: `/endpoints/${ENDPOINT}/invocations-response-stream`,
      headers: { authorization: SIGV4, accept: 'application/vnd.amazon.eventstream', 'content-type': 'application/json' },
      body: (json) => {
        assert.equal(json.stream, true);
        assert.deepEqual(json.stream_options, { include_usage: true });
      },
    },
  },
  toolCalls: {
    request: { model: 'lmi', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: 'I will check both.',
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
      usage: { prompt_tokens: 210, completion_tokens: 40 },
    },
    upstream: { path: `/endpoints/${ENDPOINT}/invocations`, body: (json) => assert.deepEqual(json.tools, [WEATHER_TOOL]) },
  },
  streamToolCalls: {
    request: { model: 'lmi', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { headers: STREAM_HEADERS, body: eventStreamFixture('tool-stream') },
    expect: {
      content: 'Checking.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'bge-small', input: 'Hello there' },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 1, dimensions: 4 },
    upstream: {
      path: `/endpoints/${ENDPOINT}/invocations`,
      headers: { authorization: SIGV4 },
      body: (json) => assert.deepEqual(json, { model: 'bge-small', input: 'Hello there' }),
    },
  },
  errors: [
    {
      answer: jsonFixture('error-validation'),
      expect: { status: 400, retryable: false, message: /ValidationError: Endpoint my-llm of account \d+ not found/ },
    },
    { answer: jsonFixture('error-throttled'), expect: { status: 429, retryable: true, message: /ThrottlingException: Rate exceeded/ } },
    { answer: jsonFixture('error-not-ready'), expect: { status: 429, retryable: true, message: /ModelNotReadyException: Model is still loading/ } },
    {
      answer: jsonFixture('error-model-client'),
      expect: { status: 400, retryable: false, message: /ModelError: the model container answered 400: \{"error":"max_tokens must be at most 4096"\}/ },
    },
    {
      answer: jsonFixture('error-model-server'),
      expect: { status: 503, retryable: true, message: /ModelError: the model container answered 503: Worker busy/ },
    },
    { answer: jsonFixture('error-unavailable'), expect: { status: 503, retryable: true, message: /ServiceUnavailable: Service Unavailable/ } },
    { answer: jsonFixture('error-internal'), expect: { status: 500, retryable: true, message: /InternalFailure: An internal failure occurred/ } },
    { answer: jsonFixture('error-dependency'), expect: { status: 502, retryable: true, message: /InternalDependencyException: .*internal dependency/ } },
    {
      answer: jsonFixture('error-access-denied'),
      expect: { status: 403, retryable: false, message: /AccessDeniedException: .*not authorized to perform: sagemaker:InvokeEndpoint/ },
    },
    { answer: jsonFixture('error-unrecognized'), expect: { status: 403, retryable: false, message: /UnrecognizedClientException: The security token/ } },
  ],
});
