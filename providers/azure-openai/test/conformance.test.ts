// The Azure OpenAI adapter against the provider conformance kit, with answers recorded in Azure
// OpenAI's documented wire format (OpenAI's Chat Completions shapes plus Azure's prompt_filter_results
// and content_filter_results, its streaming chunks, embeddings and error bodies).
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const FILTER_OK = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

// Azure's first stream chunk carries prompt_filter_results and no choices.
const promptFilterChunk = `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }] })}\n\n`;
const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ content_filter_results: finish ? {} : FILTER_OK, delta, finish_reason: finish, index: 0, logprobs: null }], created: 1732000000, id: 'chatcmpl-AZ1', model: 'gpt-4o-2024-08-06', object: 'chat.completion.chunk', system_fingerprint: 'fp_az', usage: null })}\n\n`;
const usageChunk = (p: number, c: number) =>
  `data: ${JSON.stringify({ choices: [], created: 1732000000, id: 'chatcmpl-AZ1', model: 'gpt-4o-2024-08-06', object: 'chat.completion.chunk', system_fingerprint: 'fp_az', usage: { completion_tokens: c, prompt_tokens: p, total_tokens: p + c, prompt_tokens_details: { cached_tokens: 0 } } })}\n\n`;

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const DEPLOYMENT_PATH = /^\/openai\/deployments\/gpt4o-prod\/chat\/completions\?api-version=2024-10-21$/;

runProviderConformance('azure-openai', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'azure-openai',
  target: { resource_name: 'my-resource', deployment_id: 'gpt4o-prod', api_version: '2024-10-21' },
  chat: {
    request: { model: 'gpt-4o', messages: MESSAGES, temperature: 0.2, max_tokens: 50 },
    answer: {
      status: 200,
      headers: { 'apim-request-id': '6c3b-az', 'x-ms-region': 'East US' },
      body: {
        choices: [
          {
            content_filter_results: FILTER_OK,
            finish_reason: 'stop',
            index: 0,
            logprobs: null,
            message: { content: 'Hello!', refusal: null, role: 'assistant' },
          },
        ],
        created: 1732000000,
        id: 'chatcmpl-AZ1',
        model: 'gpt-4o-2024-08-06',
        object: 'chat.completion',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
        system_fingerprint: 'fp_az',
        usage: { completion_tokens: 3, prompt_tokens: 19, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } },
      },
    },
    expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 3, cached_tokens: 0 } },
    upstream: {
      method: 'POST',
      path: DEPLOYMENT_PATH,
      headers: { 'api-key': /^conformance-test-key-/, 'content-type': 'application/json' },
      body: (json) => assert.deepEqual(json, { model: 'gpt-4o', messages: MESSAGES, temperature: 0.2, max_tokens: 50 }),
    },
  },
  stream: {
    request: { model: 'gpt-4o', messages: MESSAGES },
    answer: {
      body: [
        promptFilterChunk,
        chunk({ content: '', refusal: null, role: 'assistant' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo, wörld' }),
        chunk({ content: '!' }),
        chunk({}, 'stop'),
        usageChunk(19, 4),
        'data: [DONE]\n\n',
      ],
    },
    expect: { content: 'Hello, wörld!', finish_reason: 'stop', usage: { prompt_tokens: 19, completion_tokens: 4 } },
    upstream: { path: DEPLOYMENT_PATH, body: (json) => assert.equal(json.stream, true) },
  },
  toolCalls: {
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools: [WEATHER_TOOL], tool_choice: 'auto' },
    answer: {
      body: {
        choices: [
          {
            content_filter_results: {},
            finish_reason: 'tool_calls',
            index: 0,
            logprobs: null,
            message: {
              content: null,
              role: 'assistant',
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
                { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
              ],
            },
          },
        ],
        created: 1732000001,
        id: 'chatcmpl-AZ2',
        model: 'gpt-4o-2024-08-06',
        object: 'chat.completion',
        usage: { completion_tokens: 30, prompt_tokens: 60, total_tokens: 90 },
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
    request: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER_TOOL] },
    answer: {
      body: [
        promptFilterChunk,
        chunk({ content: null, role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
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
    request: { model: 'text-embedding-3-small', input: ['a', 'b'] },
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
    upstream: { path: /^\/openai\/deployments\/gpt4o-prod\/embeddings\?api-version=2024-10-21$/ },
  },
  errors: [
    {
      answer: {
        status: 429,
        headers: { 'retry-after': '4' },
        body: { error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 4 seconds.' } },
      },
      expect: { status: 429, retryable: true, message: /exceeded token rate limit/ },
    },
    {
      answer: {
        status: 400,
        body: {
          error: {
            message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
            innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { ...FILTER_OK, violence: { filtered: true, severity: 'medium' } } },
          },
        },
      },
      expect: { status: 400, retryable: false, message: /content management policy/ },
    },
    {
      answer: { status: 401, body: { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } } },
      expect: { status: 401, retryable: false, message: /Access denied/ },
    },
    {
      answer: { status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } } },
      expect: { status: 404, retryable: false, message: /deployment for this resource does not exist/ },
    },
    {
      answer: { status: 500, body: { error: { code: 'InternalServerError', message: 'The server had an error while processing your request.' } } },
      expect: { status: 500, retryable: true, message: /server had an error/ },
    },
  ],
});

// The v1 form: /openai/v1/... with no api-version query; the model comes from the body.
runProviderConformance('azure-openai (v1 API)', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'azure-openai',
  target: { resource_name: 'my-resource', api_version: 'v1' },
  chat: {
    request: { model: 'gpt-4o', messages: MESSAGES },
    answer: {
      body: {
        choices: [{ finish_reason: 'stop', index: 0, message: { content: 'Hi.', role: 'assistant' } }],
        created: 1732000000,
        id: 'chatcmpl-AZ3',
        model: 'gpt-4o-2024-08-06',
        object: 'chat.completion',
        usage: { completion_tokens: 2, prompt_tokens: 10, total_tokens: 12 },
      },
    },
    expect: { content: 'Hi.', finish_reason: 'stop', usage: { prompt_tokens: 10, completion_tokens: 2 } },
    upstream: { path: '/openai/v1/chat/completions', headers: { 'api-key': /^conformance-test-key-/ }, body: (json) => assert.equal(json.model, 'gpt-4o') },
  },
  errors: [
    {
      answer: { status: 429, body: { error: { code: 'RateLimitReached', message: 'Rate limit is exceeded. Try again in 2 seconds.' } } },
      expect: { status: 429, retryable: true, message: /Rate limit is exceeded/ },
    },
  ],
});
