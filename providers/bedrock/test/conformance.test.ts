// The Bedrock adapter against the provider conformance kit, with answers in Bedrock's wire format
// (Converse JSON, ConverseStream binary event-stream frames, AWS error answers) in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { MODEL, MODEL_PATH, WEATHER_TOOL, eventStreamFixture, jsonFixture } from './fixtures.js';

const STREAM_HEADERS = jsonFixture('stream-headers');

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/;

runProviderConformance('bedrock', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'bedrock',
  target: {
    aws_access_key_id: 'AKIDEXAMPLE',
    aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    aws_session_token: 'session-token-example',
    aws_region: 'us-west-2',
  },
  chat: {
    request: { model: MODEL, messages: MESSAGES, temperature: 0.2, max_tokens: 50, stop: 'END' },
    answer: { status: 200, headers: { 'x-amzn-requestid': 'a1b2' }, body: jsonFixture('text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 6 } },
    upstream: {
      method: 'POST',
      path: `${MODEL_PATH}/converse`,
      headers: {
        authorization: SIGV4,
        'x-amz-date': /^\d{8}T\d{6}Z$/,
        'x-amz-security-token': 'session-token-example',
        'content-type': 'application/json',
      },
      body: (json) =>
        assert.deepEqual(json, {
          messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
          system: [{ text: 'Be brief.' }],
          inferenceConfig: { maxTokens: 50, temperature: 0.2, stopSequences: ['END'] },
        }),
    },
  },
  stream: {
    request: { model: MODEL, messages: MESSAGES },
    answer: { headers: STREAM_HEADERS, body: eventStreamFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 27, completion_tokens: 4, cached_tokens: 8 } },
    upstream: {
      path: `${MODEL_PATH}/converse-stream`,
      headers: { authorization: SIGV4, accept: 'application/vnd.amazon.eventstream' },
      body: (json) => {
        assert.equal(json.stream, undefined);
        assert.equal(json.stream_options, undefined);
        assert.equal(json.model, undefined);
      },
    },
  },
  toolCalls: {
    request: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: 'I will check both.',
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
      usage: { prompt_tokens: 420, completion_tokens: 40, cached_tokens: 300 },
    },
    upstream: {
      path: `${MODEL_PATH}/converse`,
      body: (json) => {
        assert.deepEqual(json.toolConfig, {
          tools: [{ toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: WEATHER_TOOL.function.parameters } } }],
          toolChoice: { auto: {} },
        });
      },
    },
  },
  streamToolCalls: {
    request: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { headers: STREAM_HEADERS, body: eventStreamFixture('tool-stream') },
    expect: {
      content: 'Checking.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'amazon.titan-embed-text-v2:0', input: 'Hello there', dimensions: 4 },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 1, dimensions: 4 },
    upstream: {
      path: '/model/amazon.titan-embed-text-v2%3A0/invoke',
      headers: { authorization: SIGV4 },
      body: (json) => assert.deepEqual(json, { inputText: 'Hello there', dimensions: 4, normalize: true }),
    },
  },
  errors: [
    { answer: jsonFixture('error-throttled'), expect: { status: 429, retryable: true, message: /ThrottlingException: Too many requests/ } },
    { answer: jsonFixture('error-validation'), expect: { status: 400, retryable: false, message: /ValidationException: .*roles must alternate/ } },
    { answer: jsonFixture('error-access-denied'), expect: { status: 403, retryable: false, message: /AccessDeniedException/ } },
    { answer: jsonFixture('error-unavailable'), expect: { status: 503, retryable: true, message: /ServiceUnavailableException/ } },
    { answer: jsonFixture('error-internal'), expect: { status: 500, retryable: true, message: /internal error/ } },
  ],
});
