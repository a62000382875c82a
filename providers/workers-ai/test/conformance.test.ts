// The Workers AI adapter against the provider conformance kit, with answers recorded in Workers AI's
// documented REST shapes (the {result, success, errors, messages} envelope, the `data: {"response"}`
// stream ending with `data: [DONE]`, embeddings' `result.data`, the error table's codes) in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const RUN = `/client/v4/accounts/${ACCOUNT}/ai/run`;
const MODEL = '@cf/meta/llama-3.1-8b-instruct';
const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('workers-ai', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'workers-ai',
  basePath: RUN,
  chat: {
    request: { model: MODEL, messages: MESSAGES, temperature: 0.2, max_tokens: 50, top_p: 0.9, seed: 7 },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 24, completion_tokens: 9 } },
    upstream: {
      method: 'POST',
      path: `${RUN}/${MODEL}`,
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) => assert.deepEqual(json, { messages: MESSAGES, max_tokens: 50, temperature: 0.2, top_p: 0.9, seed: 7 }),
    },
  },
  stream: {
    request: { model: MODEL, messages: MESSAGES },
    answer: { body: sseFixture('chat-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 24, completion_tokens: 4 } },
    upstream: {
      path: `${RUN}/${MODEL}`,
      headers: { accept: 'text/event-stream' },
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: MODEL,
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '{"temp":21}' },
        { role: 'user', content: 'Now Paris and Oslo.' },
      ],
      tools: [WEATHER_TOOL],
    },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 312, completion_tokens: 41 },
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [WEATHER_TOOL]);
        assert.deepEqual(json.messages[1], {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        });
        assert.deepEqual(json.messages[2], { role: 'tool', content: '{"temp":21}', tool_call_id: 'call_0' });
      },
    },
  },
  streamToolCalls: {
    request: { model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 290, completion_tokens: 18 },
    },
  },
  embeddings: {
    request: { model: '@cf/baai/bge-base-en-v1.5', input: ['hello', 'goodbye'], encoding_format: 'float' },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: {
      path: `${RUN}/@cf/baai/bge-base-en-v1.5`,
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) => assert.deepEqual(json, { text: ['hello', 'goodbye'] }),
    },
  },
  errors: [
    {
      answer: { status: 400, body: jsonFixture('error-no-model') },
      expect: { status: 400, retryable: false, message: /No such model @cf\/meta\/llama-9-1b-instruct or task \(code 5007\)/ },
    },
    { answer: { status: 401, body: jsonFixture('error-auth') }, expect: { status: 401, retryable: false, message: 'Authentication error (code 10000)' } },
    { answer: { status: 429, body: jsonFixture('error-capacity') }, expect: { status: 429, retryable: true, message: /No more data centers/ } },
    { answer: { status: 429, body: jsonFixture('error-account-limited') }, expect: { status: 429, retryable: false, message: /daily free allocation/ } },
    { answer: { status: 408, body: jsonFixture('error-timeout') }, expect: { status: 408, retryable: true, message: 'Request timeout (code 3007)' } },
    { answer: { status: 500, body: jsonFixture('error-server') }, expect: { status: 500, retryable: true, message: 'workers-ai: Internal server error' } },
    {
      answer: { status: 503, body: 'upstream connect error or disconnect/reset before headers' },
      expect: { status: 503, retryable: true, message: /upstream connect error/ },
    },
  ],
});
