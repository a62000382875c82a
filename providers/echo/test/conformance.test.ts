// The echo adapter against the provider conformance kit. The recorded answers are the echo server's
// own (computed from the request by src/answers.ts), replayed by the kit's loopback server.
import assert from 'node:assert/strict';
import { runProviderConformance } from '@waygate/core/testing';
import { chatCompletion, chatStream, embeddings } from '../src/answers.js';

const MESSAGES = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Say hello' },
];
const chat = { model: 'echo-1', messages: MESSAGES };

runProviderConformance('echo', {
  module: new URL('../src/index.js', import.meta.url).href,
  provider: 'echo',
  basePath: '/v1',
  chat: {
    request: chat,
    answer: { status: 200, body: chatCompletion(chat) },
    expect: { content: 'echo: Say hello', finish_reason: 'stop', usage: { prompt_tokens: 4, completion_tokens: 3 } },
    upstream: { method: 'POST', path: '/v1/chat/completions', body: (json) => assert.deepEqual(json, chat) },
  },
  stream: {
    request: { ...chat, stream: true },
    answer: { body: chatStream({ ...chat, stream: true }) },
    expect: { content: 'echo: Say hello', finish_reason: 'stop', usage: { prompt_tokens: 4, completion_tokens: 3 } },
  },
  embeddings: {
    request: { model: 'echo-1', input: ['a', 'b c'] },
    answer: { status: 200, body: embeddings({ model: 'echo-1', input: ['a', 'b c'] }) },
    expect: { count: 2, dimensions: 8 },
  },
  errors: [
    {
      answer: { status: 400, body: { error: { message: 'echo: messages must be a non-empty array', type: 'invalid_request_error' } } },
      expect: { status: 400, retryable: false, message: /non-empty array/ },
    },
  ],
});
