// The watsonx adapter against the provider conformance kit, with answers in watsonx.ai's documented
// text/chat format (JSON, the chat_stream SSE, tool calls, error bodies) recorded in test/fixtures/.
// The kit's key is an IBM Cloud API key: it is exchanged at a loopback IAM, started first.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { FakeIam } from './iam-fake.js';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

/** The conformance kit's key, which this IAM knows. */
const KEY = 'conformance-test-key-0123456789';
const iam = await FakeIam.start();
iam.keys.add(KEY);
const PROJECT = '0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const TOKEN = /^Bearer eyJ/;

after(() => iam.close());

runProviderConformance('watsonx', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'watsonx',
  options: { iamUrl: iam.url },
  target: { watsonx_project_id: PROJECT },
  chat: {
    request: { model: 'ibm/granite-3-8b-instruct', messages: MESSAGES, max_tokens: 50, temperature: 0.2, stop: 'END', user: 'u1' },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 22, completion_tokens: 10 } },
    upstream: {
      method: 'POST',
      path: '/ml/v1/text/chat?version=2024-05-31',
      headers: { authorization: TOKEN, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          model_id: 'ibm/granite-3-8b-instruct',
          project_id: PROJECT,
          messages: MESSAGES,
          max_tokens: 50,
          temperature: 0.2,
          stop: ['END'],
        }),
    },
  },
  stream: {
    request: { model: 'ibm/granite-3-8b-instruct', messages: MESSAGES },
    answer: { body: sseFixture('chat-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 4 } },
    upstream: {
      path: '/ml/v1/text/chat_stream?version=2024-05-31',
      headers: { authorization: TOKEN, accept: 'text/event-stream' },
      body: (json) => {
        assert.equal(json.stream, undefined);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: 'mistralai/mistral-large',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
    },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 150, completion_tokens: 19 },
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [WEATHER_TOOL]);
        assert.equal(json.tool_choice_option, 'required');
        assert.equal(json.tool_choice, undefined);
      },
    },
  },
  errors: [
    {
      answer: { status: 400, body: jsonFixture('error-invalid') },
      expect: { status: 400, retryable: false, message: 'watsonx: json_type_error: Json field type error' },
    },
    { answer: { status: 401, body: jsonFixture('error-token-expired') }, expect: { status: 401, retryable: false, message: /expired token/ } },
    { answer: { status: 404, body: jsonFixture('error-not-found') }, expect: { status: 404, retryable: false, message: /is not supported/ } },
    { answer: { status: 429, body: jsonFixture('error-rate-limited') }, expect: { status: 429, retryable: true, message: 'token_quota_reached' } },
    { answer: { status: 500, body: jsonFixture('error-server') }, expect: { status: 500, retryable: true, message: 'Internal server error' } },
  ],
});
