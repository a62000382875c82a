// The Ollama adapter against the provider conformance kit, with answers recorded in Ollama's documented
// native shapes (/api/chat JSON and its NDJSON stream ending with "done": true, /api/embed, the
// {"error": "..."} bodies) in test/fixtures/. The custom host is the server's root, as Portkey's is.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, ndjsonFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

runProviderConformance('ollama', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'ollama',
  chat: {
    request: { model: 'llama3.2', messages: MESSAGES, temperature: 0.2, max_tokens: 50, top_p: 0.9, stop: 'END', seed: 42, keep_alive: '10m' },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 26, completion_tokens: 10 } },
    upstream: {
      method: 'POST',
      path: '/api/chat',
      headers: { 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'llama3.2',
          messages: MESSAGES,
          options: { num_predict: 50, temperature: 0.2, top_p: 0.9, seed: 42, stop: ['END'] },
          keep_alive: '10m',
          stream: false,
        }),
    },
  },
  stream: {
    request: { model: 'llama3.2', messages: MESSAGES },
    answer: { headers: { 'content-type': 'application/x-ndjson' }, body: ndjsonFixture('chat-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 26, completion_tokens: 4 } },
    upstream: {
      path: '/api/chat',
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: 'llama3.2',
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_7', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_7', content: '{"temp":21}' },
        { role: 'user', content: 'Now Paris and Oslo.' },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 211, completion_tokens: 42 },
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
          tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Rome' } } }],
        });
        assert.deepEqual(json.messages[2], { role: 'tool', content: '{"temp":21}', tool_name: 'get_weather' });
      },
    },
  },
  streamToolCalls: {
    request: { model: 'llama3.2', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { headers: { 'content-type': 'application/x-ndjson' }, body: ndjsonFixture('tool-stream') },
    expect: {
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 180, completion_tokens: 21 },
    },
  },
  embeddings: {
    request: { model: 'all-minilm', input: ['hello', 'goodbye'], encoding_format: 'float' },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 3 },
    upstream: { path: '/api/embed', body: (json) => assert.deepEqual(json, { model: 'all-minilm', input: ['hello', 'goodbye'] }) },
  },
  errors: [
    {
      answer: { status: 404, body: jsonFixture('error-not-found') },
      expect: { status: 404, retryable: false, message: 'ollama: model "llama9" not found, try pulling it first' },
    },
    { answer: { status: 400, body: jsonFixture('error-bad-request') }, expect: { status: 400, retryable: false, message: /cannot unmarshal/ } },
    { answer: { status: 401, body: jsonFixture('error-unauthorized') }, expect: { status: 401, retryable: false, message: 'ollama: unauthorized' } },
    {
      answer: { status: 500, body: jsonFixture('error-server') },
      expect: { status: 500, retryable: true, message: /llama runner process has terminated/ },
    },
    { answer: { status: 503, body: jsonFixture('error-busy') }, expect: { status: 503, retryable: true, message: /server busy/ } },
    { answer: { status: 429, body: 'Too Many Requests' }, expect: { status: 429, retryable: true, message: 'ollama: Too Many Requests' } },
  ],
});
