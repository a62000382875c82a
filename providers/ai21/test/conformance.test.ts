// The AI21 adapter against the provider conformance kit, with answers in AI21 Studio's documented
// format (Jamba chat, its SSE stream, tool calls, embed, error bodies) recorded in test/fixtures/.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Say ' },
      { type: 'text', text: 'hello' },
    ],
  },
];

runProviderConformance('ai21', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'ai21',
  basePath: '/studio/v1',
  chat: {
    request: { model: 'jamba-mini', messages: MESSAGES, max_completion_tokens: 50, temperature: 0.4, top_p: 0.9, stop: 'END', seed: 1, user: 'u1' },
    answer: { status: 200, body: jsonFixture('chat-answer') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 17, completion_tokens: 10 } },
    upstream: {
      method: 'POST',
      path: '/studio/v1/chat/completions',
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          model: 'jamba-mini',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Say hello' },
          ],
          max_tokens: 50,
          temperature: 0.4,
          top_p: 0.9,
          stop: ['END'],
        }),
    },
  },
  stream: {
    request: { model: 'jamba-mini', messages: MESSAGES },
    answer: { body: sseFixture('chat-stream') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 15, completion_tokens: 4 } },
    upstream: {
      path: '/studio/v1/chat/completions',
      headers: { accept: 'text/event-stream' },
      body: (json) => {
        assert.equal(json.stream, true);
        assert.equal(json.stream_options, undefined);
      },
    },
  },
  toolCalls: {
    request: {
      model: 'jamba-large',
      messages: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    },
    answer: { body: jsonFixture('tool-answer') },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      usage: { prompt_tokens: 120, completion_tokens: 38 },
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.tools, [WEATHER_TOOL]);
        assert.equal(json.tool_choice, undefined);
        assert.deepEqual(json.messages[1], {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }],
        });
        assert.deepEqual(json.messages[2], { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' });
      },
    },
  },
  embeddings: {
    request: { model: 'ai21-embed', input: ['hello', 'goodbye'] },
    answer: { body: jsonFixture('embed-answer') },
    expect: { count: 2, dimensions: 5 },
    upstream: {
      path: '/studio/v1/embed',
      headers: { authorization: /^Bearer conformance-test-key-/ },
      body: (json) => assert.deepEqual(json, { texts: ['hello', 'goodbye'], type: 'segment' }),
    },
  },
  errors: [
    {
      answer: { status: 401, body: jsonFixture('error-unauthorized') },
      expect: { status: 401, retryable: false, message: 'ai21: Forbidden: Bad or missing API token.' },
    },
    {
      answer: { status: 422, body: jsonFixture('error-validation') },
      expect: { status: 422, retryable: false, message: 'body.messages.0.content: str type expected' },
    },
    { answer: { status: 404, body: jsonFixture('error-not-found') }, expect: { status: 404, retryable: false, message: /no longer available/ } },
    { answer: { status: 429, body: jsonFixture('error-rate-limited') }, expect: { status: 429, retryable: true, message: 'Too many requests' } },
    { answer: { status: 500, body: jsonFixture('error-server') }, expect: { status: 500, retryable: true, message: 'Internal server error' } },
    { answer: { status: 503, body: jsonFixture('error-unavailable') }, expect: { status: 503, retryable: true, message: /temporarily unavailable/ } },
  ],
});
