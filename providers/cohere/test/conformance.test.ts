// The Cohere adapter against the provider conformance kit, with answers recorded in Cohere's
// documented v2 wire format (chat, its SSE event stream, embed, error bodies) in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('cohere', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'cohere',
  basePath: '/v2',
  chat: {
    request: { model: 'command-a-03-2025', messages: MESSAGES, temperature: 0.2, max_tokens: 50, top_p: 0.9, stop: ['END'] },
    answer: { status: 200, body: jsonFixture('text-answer') },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 215, completion_tokens: 3 } },
    upstream: {
      method: 'POST',
      path: '/v2/chat',
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'command-a-03-2025',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Say hello' },
          ],
          max_tokens: 50,
          temperature: 0.2,
          p: 0.9,
          stop_sequences: ['END'],
        }),
    },
  },
  stream: {
    request: { model: 'command-a-03-2025', messages: MESSAGES },
    answer: { body: sseFixture('text-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 215, completion_tokens: 4 } },
    upstream: {
      path: '/v2/chat',
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: 'command-a-03-2025',
      messages: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'get_weather_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        },
        { role: 'tool', tool_call_id: 'get_weather_0', content: '{"temp":21}' },
        { role: 'user', content: 'Now Paris and Oslo.' },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
    },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 912, completion_tokens: 80 },
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [WEATHER_TOOL]);
        assert.equal(json.tool_choice, 'REQUIRED');
        assert.deepEqual(json.messages[1], {
          role: 'assistant',
          tool_calls: [{ id: 'get_weather_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        });
        assert.deepEqual(json.messages[2], { role: 'tool', tool_call_id: 'get_weather_0', content: '{"temp":21}' });
      },
    },
  },
  streamToolCalls: {
    request: { model: 'command-a-03-2025', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 900, completion_tokens: 50 },
    },
  },
  embeddings: {
    request: { model: 'embed-english-v3.0', input: ['hello', 'goodbye'] },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: {
      path: '/v2/embed',
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) =>
        assert.deepEqual(json, { model: 'embed-english-v3.0', texts: ['hello', 'goodbye'], input_type: 'search_document', embedding_types: ['float'] }),
    },
  },
  errors: [
    { answer: { status: 429, body: jsonFixture('error-rate-limited') }, expect: { status: 429, retryable: true, message: /limited to 10 API calls/ } },
    { answer: { status: 400, body: jsonFixture('error-invalid') }, expect: { status: 400, retryable: false, message: /model 'command-x' not found/ } },
    { answer: { status: 401, body: jsonFixture('error-unauthorized') }, expect: { status: 401, retryable: false, message: 'invalid api token' } },
    { answer: { status: 500, body: jsonFixture('error-server') }, expect: { status: 500, retryable: true, message: /internal server error/ } },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: 'service unavailable' } },
  ],
});
