// The OpenAI adapter against the provider conformance kit, with answers recorded in OpenAI's
// documented wire format (Chat Completions, its streaming chunks, embeddings and error bodies).
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-9x', object: 'chat.completion.chunk', created: 1732000000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_1', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const usageChunk = (p: number, c: number, cached = 0) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-9x', object: 'chat.completion.chunk', created: 1732000000, model: 'gpt-4o-mini-2024-07-18', choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c, prompt_tokens_details: { cached_tokens: cached } } })}\n\n`;

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

runProviderConformance('openai', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'openai',
  basePath: '/v1',
  chat: {
    request: { model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: {
      status: 200,
      headers: { 'x-request-id': 'req_abc' },
      body: {
        id: 'chatcmpl-9x',
        object: 'chat.completion',
        created: 1732000000,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 19, completion_tokens: 3, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } },
        system_fingerprint: 'fp_1',
      },
    },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 3, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization: /^Bearer conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) => assert.deepEqual(json, { model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }),
    },
  },
  stream: {
    request: { model: 'gpt-4o-mini', messages: MESSAGES },
    answer: {
      body: [
        chunk({ role: 'assistant', content: '', refusal: null }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo, wörld' }),
        chunk({ content: '!' }),
        chunk({}, 'stop'),
        usageChunk(19, 4, 8),
        'data: [DONE]\n\n',
      ],
    },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 4, cached_tokens: 8 } },
    upstream: { path: '/v1/chat/completions', body: (json) => assert.deepEqual(json.stream_options, { include_usage: true }) },
  },
  toolCalls: {
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: {
      body: {
        id: 'chatcmpl-9y',
        object: 'chat.completion',
        created: 1732000001,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
                { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 60, completion_tokens: 30, total_tokens: 90 },
      },
    },
    expect: {
      content: null,
      finish_reason: 'tool_calls',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    },
    upstream: { body: (json) => assert.deepEqual(json.tools, [WEATHER_TOOL]) },
  },
  streamToolCalls: {
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: {
      body: [
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }),
        chunk({}, 'tool_calls'),
        usageChunk(50, 12),
        'data: [DONE]\n\n',
      ],
    },
    expect: { finish_reason: 'tool_calls', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], usage: { prompt_tokens: 50, completion_tokens: 12 } },
  },
  embeddings: {
    request: { model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 3 },
    answer: {
      body: {
        object: 'list',
        data: [
          { object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] },
          { object: 'embedding', index: 1, embedding: [0.4, 0.5, 0.6] },
        ],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      },
    },
    expect: { count: 2, dimensions: 3 },
    upstream: { path: '/v1/embeddings' },
  },
  errors: [
    {
      answer: { status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests', param: null, code: 'rate_limit_exceeded' } } },
      expect: { status: 429, retryable: true, message: 'Rate limit reached' },
    },
    {
      answer: { status: 500, body: { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } } },
      expect: { status: 500, retryable: true, message: /server had an error/ },
    },
    {
      answer: { status: 400, body: { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } } },
      expect: { status: 400, retryable: false, message: /temperature/ },
    },
    {
      answer: { status: 401, body: { error: { message: 'Incorrect API key provided: conf****6789.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } },
      expect: { status: 401, retryable: false, message: /Incorrect API key/ },
    },
  ],
});
