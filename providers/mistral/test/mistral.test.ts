// The Mistral mapping as pure functions: chat field renames, the FIM body, FIM answers and streams as
// OpenAI completions, Mistral's error bodies.
import { expect } from 'chai';
import type { BuildInput } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import {
  chatFimPrompt,
  completionPrompt,
  fimBody,
  fimForChat,
  fimToCompletion,
  FimCompletionStream,
  mapMistralError,
  mistral,
  mistralChatBody,
} from '../src/index.js';
import { jsonFixture, sseFixture } from './fixtures.js';

const input = (node: Record<string, unknown>, headers: Record<string, string> = {}): BuildInput =>
  ({ ctx: { headers }, target: { provider: 'mistral-ai', node: { provider: 'mistral-ai', ...node }, path: 'config' }, body: {} }) as unknown as BuildInput;

describe('@waygate/provider-mistral mapping', () => {
  it('serves chat, completions (FIM), embeddings, models, files, passthrough and native passthrough at api.mistral.ai/v1', () => {
    expect(mistral.id).to.equal('mistral-ai');
    expect(mistral.baseURL).to.equal('https://api.mistral.ai/v1');
    expect(Object.keys(mistral.endpoints).sort()).to.deep.equal([
      'chat.completions',
      'completions',
      'embeddings',
      'files',
      'models',
      'passthrough',
      'passthrough.native',
    ]);
  });

  it('renames only what Mistral refuses, and leaves a body without them alone', () => {
    expect(mistralChatBody({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 })).to.equal(undefined);
    expect(
      mistralChatBody({ model: 'm', messages: [{ role: 'developer', content: 'x' }], max_completion_tokens: 9, max_tokens: 3, seed: 2 }),
    ).to.deep.equal({
      model: 'm',
      messages: [{ role: 'system', content: 'x' }],
      max_tokens: 3,
      random_seed: 2,
    });
  });

  it('turns chat into FIM under mistral_fim_completion (option or Portkey header), prompt from `prompt` or the last user message', () => {
    expect(fimForChat(input({}))).to.equal(false);
    expect(fimForChat(input({ mistral_fim_completion: true }))).to.equal(true);
    expect(fimForChat(input({}, { 'x-portkey-mistral-fim-completion': 'true' }))).to.equal(true);
    expect(fimForChat(input({}, { 'x-portkey-mistral-fim-completion': 'false' }))).to.equal(false);
    expect(
      chatFimPrompt({
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: [{ type: 'text', text: 'c' }] },
        ],
      }),
    ).to.equal('c');
    expect(chatFimPrompt({ prompt: 'p', messages: [] })).to.equal('p');
    expect(thrown(() => chatFimPrompt({ messages: [{ role: 'system', content: 'x' }] })).status).to.equal(400);
  });

  it('builds the FIM body from a completion request, refusing what FIM has no place for', () => {
    expect(
      fimBody(
        {
          model: 'codestral-latest',
          prompt: 'x',
          suffix: 'y',
          max_completion_tokens: 5,
          min_tokens: 1,
          temperature: 0.1,
          top_p: 0.9,
          stop: ['\n\n'],
          seed: 4,
          stream: true,
          user: 'u',
        },
        'x',
      ),
    ).to.deep.equal({
      model: 'codestral-latest',
      prompt: 'x',
      suffix: 'y',
      temperature: 0.1,
      top_p: 0.9,
      min_tokens: 1,
      max_tokens: 5,
      stop: ['\n\n'],
      random_seed: 4,
      stream: true,
    });
    expect(completionPrompt({ prompt: ['only'] })).to.equal('only');
    expect(thrown(() => completionPrompt({ prompt: ['a', 'b'] })).param).to.equal('prompt');
    expect(thrown(() => fimBody({ n: 2 }, 'x')).param).to.equal('n');
    expect(thrown(() => fimBody({ echo: true }, 'x')).param).to.equal('echo');
    expect(thrown(() => fimBody({ logprobs: 2 }, 'x')).param).to.equal('logprobs');
  });

  it('answers a FIM completion as a text_completion, and refuses an answer without choices', () => {
    expect(fimToCompletion(jsonFixture('fim-answer'))).to.deep.equal({
      id: '447e3e0d457e42e98248b5d2ef52a2a3',
      object: 'text_completion',
      created: 1759496862,
      model: 'codestral-latest',
      choices: [
        { index: 0, text: '    if n <= 1:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n', logprobs: null, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 8, completion_tokens: 91, total_tokens: 99 },
    });
    expect(thrown(() => fimToCompletion({ object: 'chat.completion' })).status).to.equal(502);
  });

  it('streams FIM as text_completion chunks, usage and [DONE] kept; fails on an error object or a cut stream', () => {
    const t = new FimCompletionStream();
    const out = sseFixture('fim-stream').map((raw) => t.transform({ data: raw.replace(/^data: /, '').trim() })!);
    expect(out.at(-1)!.data).to.equal('[DONE]');
    const chunks = out.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.object === 'text_completion')).to.equal(true);
    expect(chunks.map((c) => c.choices[0].text).join('')).to.equal('    return a + b');
    expect(chunks.at(-1)).to.deep.include({ usage: { prompt_tokens: 12, total_tokens: 16, completion_tokens: 4 } });
    expect(chunks.at(-1).choices[0].finish_reason).to.equal('stop');
    expect(t.flush()).to.equal(undefined);
    const cut = new FimCompletionStream();
    cut.transform({ data: '{"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}' });
    expect(thrown(() => cut.flush()).message).to.include('before [DONE]');
    const err = thrown(() =>
      new FimCompletionStream().transform({ data: '{"object":"error","message":"Service unavailable.","type":"internal_server_error"}' }),
    );
    expect([err.status, err.message]).to.deep.equal([502, 'mistral-ai: Service unavailable.']);
    expect(thrown(() => new FimCompletionStream().transform({ data: '{not json' })).status).to.equal(502);
  });

  it("keeps the status and Mistral's message of each error shape, and Retry-After", () => {
    const e = mapMistralError(429, jsonFixture('error-rate-limited'), { 'retry-after': '2' });
    expect([e.status, e.retryable, e.message, e.headers]).to.deep.equal([429, true, 'mistral-ai: Requests rate limit exceeded', { 'retry-after': '2' }]);
    expect(mapMistralError(422, { detail: [{ loc: ['body', 'prompt'], msg: 'Field required' }] }, {}).message).to.equal(
      'mistral-ai: body.prompt: Field required',
    );
    expect(mapMistralError(500, 'upstream connect error', {}).message).to.equal('mistral-ai: upstream connect error');
    expect(mapMistralError(400, jsonFixture('error-invalid'), {}).type).to.equal('invalid_request_error');
  });
});
