// A few representative new presets against the provider conformance kit: a plain OpenAI-compatible
// service (moonshot), one with embeddings (nvidia-nim), and account-templated ones whose template a
// custom host replaces (azure-ai, which keeps its api-version query). The answers are
// small bodies in OpenAI's documented wire format, written here.
import { runProviderConformance } from '@waygate/core/testing';

const MESSAGES = [{ role: 'user', content: 'Say hello' }];

const answer = (model: string) => ({
  id: 'chatcmpl-9',
  object: 'chat.completion',
  created: 1733300000,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello!' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
});

const chunk = (model: string, delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1733300000, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

const stream = (model: string) => [
  chunk(model, { role: 'assistant', content: '' }, null),
  chunk(model, { content: 'Hel' }, null),
  chunk(model, { content: 'lo!' }, null),
  chunk(model, {}, 'stop'),
  chunk(model, {}, null, { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 }),
  'data: [DONE]\n\n',
];

const ERRORS = [
  {
    answer: { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'Rate limit exceeded for this key', type: 'rate_limit_error' } } },
    expect: { status: 429, retryable: true, message: /Rate limit exceeded/ },
  },
  {
    answer: { status: 401, body: { error: { message: 'Invalid API key', type: 'invalid_request_error' } } },
    expect: { status: 401, retryable: false, message: /Invalid API key/ },
  },
  {
    answer: { status: 503, body: { error: { message: 'Service overloaded', type: 'server_error' } } },
    expect: { status: 503, retryable: true, message: /overloaded/ },
  },
];

const CASES: Array<{ provider: string; model: string; path: string; embeddings?: boolean }> = [
  { provider: 'moonshot', model: 'kimi-k2-0711-preview', path: '/v1/chat/completions' },
  { provider: 'nvidia-nim', model: 'meta/llama-3.1-8b-instruct', path: '/v1/chat/completions', embeddings: true },
  { provider: 'azure-ai', model: 'Phi-4', path: '/v1/chat/completions?api-version=2024-05-01-preview' },
];

for (const c of CASES) {
  const q = c.path.includes('?') ? c.path.slice(c.path.indexOf('?')) : '';
  runProviderConformance(c.provider, {
    module: new URL('../src/index.js', import.meta.url).href,
    provider: c.provider,
    options: { only: [c.provider] },
    basePath: '/v1',
    chat: {
      request: { model: c.model, messages: MESSAGES, max_tokens: 20 },
      answer: { body: answer(c.model) },
      expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 9, completion_tokens: 2 } },
      upstream: { method: 'POST', path: c.path, headers: { authorization: /^Bearer conformance-test-key-/ } },
    },
    stream: {
      request: { model: c.model, messages: MESSAGES },
      answer: { body: stream(c.model) },
      expect: { content: 'Hello!', finish_reason: 'stop', usage: { prompt_tokens: 9, completion_tokens: 2 } },
      upstream: { path: c.path },
    },
    embeddings: c.embeddings
      ? {
          request: { model: 'nvidia/nv-embedqa-e5-v5', input: ['a', 'b'], input_type: 'query' },
          answer: {
            body: {
              object: 'list',
              data: [
                { object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] },
                { object: 'embedding', index: 1, embedding: [0.4, 0.5, 0.6] },
              ],
              model: 'nvidia/nv-embedqa-e5-v5',
              usage: { prompt_tokens: 2, total_tokens: 2 },
            },
          },
          expect: { count: 2, dimensions: 3 },
          upstream: { path: `/v1/embeddings${q}` },
        }
      : undefined,
    errors: ERRORS,
  });
}
