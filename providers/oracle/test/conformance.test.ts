// The oracle adapter against the provider conformance kit, twice: GENERIC chat requests (Meta, xAI,
// OpenAI models on OCI) and COHERE ones (cohere.command-*), with answers in OCI's wire format in
// test/fixtures/. The signature itself is verified with the public key in oracle.test.ts.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { COMPARTMENT, ORACLE_TARGET, SIGNED_POST, WEATHER_TOOL, jsonFixture, sseFixture } from './fixtures.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const SIGNED = {
  authorization: SIGNED_POST,
  date: /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  'x-content-sha256': /^[A-Za-z0-9+/]{43}=$/,
  'content-type': 'application/json',
  'content-length': /^\d+$/,
};
const ERRORS = [
  { answer: jsonFixture('error-throttled'), expect: { status: 429, retryable: true, message: /TooManyRequests: Too many requests for the user/ } },
  {
    answer: jsonFixture('error-invalid-parameter'),
    expect: { status: 400, retryable: false, message: /InvalidParameter: Please pass in correct format/ },
  },
  { answer: jsonFixture('error-not-authenticated'), expect: { status: 401, retryable: false, message: /NotAuthenticated/ } },
  { answer: jsonFixture('error-not-found'), expect: { status: 404, retryable: false, message: /NotAuthorizedOrNotFound/ } },
  { answer: jsonFixture('error-incorrect-state'), expect: { status: 409, retryable: true, message: /IncorrectState/ } },
  { answer: jsonFixture('error-conflict'), expect: { status: 409, retryable: false, message: /Conflict: / } },
  { answer: jsonFixture('error-internal'), expect: { status: 500, retryable: true, message: /InternalServerError.*opc-request-id D4A6B8C0E2F3/ } },
  { answer: jsonFixture('error-unavailable'), expect: { status: 503, retryable: true, message: /ServiceUnavailable/ } },
];

runProviderConformance('oracle (GENERIC)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'oracle',
  target: ORACLE_TARGET,
  chat: {
    request: { model: 'meta.llama-3.3-70b-instruct', messages: MESSAGES, temperature: 0.2, max_tokens: 50, stop: 'END', top_p: 0.9 },
    answer: { status: 200, headers: { 'opc-request-id': 'a1b2' }, body: jsonFixture('chat-generic') },
    expect: { content: 'Hello! How can I help you today?', finish_reason: 'stop', usage: { prompt_tokens: 24, completion_tokens: 10, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: '/20231130/actions/chat',
      headers: { ...SIGNED, accept: 'application/json' },
      body: (json) =>
        assert.deepEqual(json, {
          compartmentId: COMPARTMENT,
          servingMode: { servingType: 'ON_DEMAND', modelId: 'meta.llama-3.3-70b-instruct' },
          chatRequest: {
            apiFormat: 'GENERIC',
            messages: [
              { role: 'SYSTEM', content: [{ type: 'TEXT', text: 'Be brief.' }] },
              { role: 'USER', content: [{ type: 'TEXT', text: 'Say hello' }] },
            ],
            maxTokens: 50,
            temperature: 0.2,
            topP: 0.9,
            stop: ['END'],
          },
        }),
    },
  },
  stream: {
    request: { model: 'meta.llama-3.3-70b-instruct', messages: MESSAGES },
    answer: { body: sseFixture('stream-generic') },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 27, completion_tokens: 4, cached_tokens: 8 } },
    upstream: {
      path: '/20231130/actions/chat',
      headers: { ...SIGNED, accept: 'text/event-stream' },
      body: (json) => {
        assert.equal(json.chatRequest.isStream, true);
        assert.deepEqual(json.chatRequest.streamOptions, { isIncludeUsage: true });
        assert.equal(json.chatRequest.stream, undefined);
        assert.equal(json.chatRequest.model, undefined);
      },
    },
  },
  toolCalls: {
    request: { model: 'xai.grok-3', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: { body: jsonFixture('chat-generic-tools') },
    expect: {
      content: 'Let me look up both cities.',
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
      usage: { prompt_tokens: 310, completion_tokens: 48, cached_tokens: 256 },
    },
    upstream: {
      body: (json) => {
        assert.deepEqual(json.chatRequest.tools, [
          { type: 'FUNCTION', name: 'get_weather', description: 'Weather for a city', parameters: WEATHER_TOOL.function.parameters },
        ]);
        assert.deepEqual(json.chatRequest.toolChoice, { type: 'AUTO' });
      },
    },
  },
  streamToolCalls: {
    request: { model: 'xai.grok-3', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('stream-generic-tools') },
    expect: {
      content: 'Checking.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 50, completion_tokens: 12 },
    },
  },
  embeddings: {
    request: { model: 'cohere.embed-english-v3.0', input: ['Hello there', 'General Kenobi'], input_type: 'search_document' },
    answer: { body: jsonFixture('embed-text') },
    expect: { count: 2, dimensions: 4 },
    upstream: {
      path: '/20231130/actions/embedText',
      headers: SIGNED,
      body: (json) =>
        assert.deepEqual(json, {
          inputs: ['Hello there', 'General Kenobi'],
          inputType: 'SEARCH_DOCUMENT',
          servingMode: { servingType: 'ON_DEMAND', modelId: 'cohere.embed-english-v3.0' },
          compartmentId: COMPARTMENT,
        }),
    },
  },
  errors: ERRORS,
});

runProviderConformance('oracle (COHERE)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'oracle',
  target: ORACLE_TARGET,
  chat: {
    request: { model: 'cohere.command-r-08-2024', messages: [...MESSAGES.slice(0, 1), { role: 'user', content: 'Say hello in French' }], max_tokens: 60 },
    answer: { body: jsonFixture('chat-cohere') },
    expect: { content: 'Bonjour! Comment puis-je vous aider ?', finish_reason: 'stop', usage: { prompt_tokens: 215, completion_tokens: 11 } },
    upstream: {
      path: '/20231130/actions/chat',
      headers: SIGNED,
      body: (json) =>
        assert.deepEqual(json, {
          compartmentId: COMPARTMENT,
          servingMode: { servingType: 'ON_DEMAND', modelId: 'cohere.command-r-08-2024' },
          chatRequest: { apiFormat: 'COHERE', message: 'Say hello in French', preambleOverride: 'Be brief.', maxTokens: 60 },
        }),
    },
  },
  stream: {
    request: { model: 'cohere.command-r-08-2024', messages: [{ role: 'user', content: 'Say hello in French' }] },
    answer: { body: sseFixture('stream-cohere') },
    expect: { content: 'Bonjour, le monde', finish_reason: 'stop', usage: { prompt_tokens: 212, completion_tokens: 5 } },
    upstream: { body: (json) => assert.equal(json.chatRequest.isStream, true) },
  },
  toolCalls: {
    request: { model: 'cohere.command-r-plus-08-2024', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: jsonFixture('chat-cohere-tools') },
    expect: {
      content: 'I will look up the weather in Paris.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 902, completion_tokens: 19 },
    },
    upstream: {
      body: (json) =>
        assert.deepEqual(json.chatRequest.tools, [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameterDefinitions: { city: { type: 'str', description: 'The city', isRequired: true } },
          },
        ]),
    },
  },
  streamToolCalls: {
    request: { model: 'cohere.command-r-plus-08-2024', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: { body: sseFixture('stream-cohere-tools') },
    expect: {
      content: 'I will check the weather.',
      finish_reason: 'tool_calls',
      tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
      usage: { prompt_tokens: 880, completion_tokens: 21 },
    },
  },
  errors: ERRORS.slice(0, 2),
});
