// The Workers AI adapter's pieces on their own: the account template and its checks, the request
// mapping, the envelope, the stream transformer (cut, malformed and failed streams) and error mapping.
import { expect } from 'chai';
import type { BuildInput, SSEEvent } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import {
  BASE_URL_TEMPLATE,
  fromWorkersChat,
  fromWorkersEmbed,
  mapWorkersAIError,
  toWorkersChat,
  toWorkersPrompt,
  workersAI,
  WorkersAIStreamTransformer,
} from '../src/index.js';
import { jsonFixture } from './fixtures.js';

const ACCOUNT = '0123456789abcdef0123456789abcdef';
const MODEL = '@cf/meta/llama-3.1-8b-instruct';

function input(
  node: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  baseURL = BASE_URL_TEMPLATE,
  body?: Record<string, unknown>,
): BuildInput {
  return {
    ctx: { headers } as never,
    target: { provider: 'workers-ai', apiKey: 'cf-token', baseURL, node: { provider: 'workers-ai', ...node }, path: 'config' },
    body: body ?? { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
  };
}

const build = (i: BuildInput) => workersAI.endpoints['chat.completions']!.build(i);

describe('workers-ai: the account template', () => {
  it("fills the account id from the config node (Portkey's workers_ai_account_id) into /accounts/{id}/ai/run/{model}", () => {
    const req = build(input({ workers_ai_account_id: ACCOUNT }));
    expect(req.url).to.equal(`https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/run/${MODEL}`);
    expect(req.method).to.equal('POST');
    expect(req.headers.authorization).to.equal('Bearer cf-token');
  });

  it('takes the account id from the x-portkey-workers-ai-account-id header (and x-waygate-)', () => {
    expect(build(input({}, { 'x-portkey-workers-ai-account-id': ACCOUNT })).url).to.include(`/accounts/${ACCOUNT}/ai/run/`);
    expect(build(input({}, { 'x-waygate-workers-ai-account-id': ACCOUNT.toUpperCase() })).url).to.include(`/accounts/${ACCOUNT.toUpperCase()}/`);
  });

  it('a missing account id is a 400 naming the field and the header', () => {
    const err = thrown(() => build(input()));
    expect(err.status).to.equal(400);
    expect(err.param).to.equal('config.workers_ai_account_id');
    expect(err.message).to.include('x-waygate-workers-ai-account-id').and.include('32 hex digits');
  });

  it('an account id that is not 32 hex digits is a 400, never put into the URL', () => {
    for (const bad of ['../../evil', 'a'.repeat(31), 'g'.repeat(32), `${ACCOUNT}/x`]) {
      const err = thrown(() => build(input({ workers_ai_account_id: bad })));
      expect(err.status, bad).to.equal(400);
      expect(err.message).to.include('32 hex digits');
    }
  });

  it('a custom host replaces the template (no account id needed); one holding {workers_ai_account_id} is filled', () => {
    expect(build(input({}, {}, 'http://127.0.0.1:9/v1/acct/gw/workers-ai/')).url).to.equal(`http://127.0.0.1:9/v1/acct/gw/workers-ai/${MODEL}`);
    const gw = 'https://gateway.ai.cloudflare.com/v1/{workers_ai_account_id}/my-gateway/workers-ai';
    expect(build(input({ workers_ai_account_id: ACCOUNT }, {}, gw)).url).to.equal(
      `https://gateway.ai.cloudflare.com/v1/${ACCOUNT}/my-gateway/workers-ai/${MODEL}`,
    );
  });

  it('a base URL ending with /ai/v1 (the OpenAI-compatible base of the earlier preset) runs the model at /ai/run', () => {
    const old = `https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/v1`;
    expect(build(input({}, {}, old)).url).to.equal(`https://api.cloudflare.com/client/v4/accounts/${ACCOUNT}/ai/run/${MODEL}`);
  });

  it('a model that is not a Workers AI model name is a 400 (no path tricks)', () => {
    for (const model of ['../../../user/tokens', '@cf/../x', '', 'a//b', '@cf/meta/x?y=1']) {
      const err = thrown(() =>
        build(input({ workers_ai_account_id: ACCOUNT }, {}, BASE_URL_TEMPLATE, { model, messages: [{ role: 'user', content: 'hi' }] })),
      );
      expect(err.status, model).to.equal(400);
      expect(err.param).to.equal('model');
    }
  });
});

describe('workers-ai: requests', () => {
  it('maps messages (developer as system, text parts joined) and the sampling options', () => {
    const out = toWorkersChat({
      model: MODEL,
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hel' },
            { type: 'text', text: 'lo' },
          ],
        },
      ],
      max_completion_tokens: 64,
      frequency_penalty: 0.5,
      response_format: { type: 'json_object' },
      top_k: 5,
      stream: true,
    });
    expect(out).to.deep.equal({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      response_format: { type: 'json_object' },
      max_tokens: 64,
      frequency_penalty: 0.5,
      top_k: 5,
      stream: true,
    });
  });

  it('refuses what it cannot map: images, n > 1, stop, unknown roles, no messages', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'user', content: 'x' }], n: 2 }, 'n'],
      [{ messages: [{ role: 'user', content: 'x' }], stop: ['END'] }, 'stop'],
      [{ messages: [{ role: 'function', content: 'x' }] }, 'messages[0].role'],
      [{ messages: [] }, 'messages'],
    ];
    for (const [body, param] of cases) {
      const err = thrown(() => toWorkersChat(body));
      expect(err.status, param).to.equal(400);
      expect(err.param).to.equal(param);
    }
  });

  it('completions send one `prompt`', () => {
    expect(toWorkersPrompt({ prompt: ['Once upon'], max_tokens: 10, raw: true })).to.deep.equal({ prompt: 'Once upon', max_tokens: 10, raw: true });
    expect(thrown(() => toWorkersPrompt({ prompt: ['a', 'b'] })).param).to.equal('prompt');
  });
});

describe('workers-ai: answers', () => {
  it('an envelope with success: false on a 200 is a retryable 502 carrying its errors', () => {
    const err = thrown(() =>
      fromWorkersChat({ result: null, success: false, errors: [{ code: 3040, message: 'No more data centers' }], messages: [] }, MODEL),
    );
    expect(err.status).to.equal(502);
    expect(err.message).to.include('No more data centers (code 3040)');
    expect((err as unknown as { retryable: boolean }).retryable).to.equal(true);
  });

  it('an answer without a result is a 502', () => {
    expect(thrown(() => fromWorkersChat({ success: true }, MODEL)).status).to.equal(502);
    expect(thrown(() => fromWorkersChat('nope', MODEL)).status).to.equal(502);
  });

  it('finish_reason is length when the answer used every token asked for; a JSON-mode object is JSON text', () => {
    const out = fromWorkersChat(
      { result: { response: { a: 1 }, usage: { prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 } }, success: true },
      MODEL,
      8,
    );
    expect(out.choices[0].finish_reason).to.equal('length');
    expect(out.choices[0].message.content).to.equal('{"a":1}');
    expect(out.usage).to.deep.equal({ prompt_tokens: 3, completion_tokens: 8, total_tokens: 11 });
    expect(fromWorkersChat(jsonFixture('chat-answer'), MODEL).model).to.equal(MODEL);
  });

  it("tool calls in OpenAI's own shape (newer models) keep their id", () => {
    const out = fromWorkersChat(
      {
        result: { response: null, tool_calls: [{ id: 'chatcmpl-tool-1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
        success: true,
      },
      MODEL,
    );
    expect(out.choices[0].message.tool_calls).to.deep.equal([{ id: 'chatcmpl-tool-1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }]);
    expect(out.choices[0].finish_reason).to.equal('tool_calls');
  });

  it('embeddings come back as floats or, when asked, base64 float32', () => {
    const floats = fromWorkersEmbed(jsonFixture('embed-answer'), '@cf/baai/bge-base-en-v1.5');
    expect(floats.data[1].embedding).to.deep.equal([-0.0139, 0.0301, 0.0476]);
    const b64 = fromWorkersEmbed(jsonFixture('embed-answer'), '@cf/baai/bge-base-en-v1.5', 'base64');
    const back = Buffer.from(b64.data[0].embedding, 'base64');
    expect(back.readFloatLE(4)).to.be.closeTo(-0.0417, 1e-6);
    expect(thrown(() => fromWorkersEmbed({ result: { shape: [1] }, success: true }, 'm')).status).to.equal(502);
  });
});

describe('workers-ai: the stream transformer', () => {
  const run = (t: WorkersAIStreamTransformer, datas: string[]): any[] =>
    datas.flatMap((d) => (t.transform({ data: d }) as SSEEvent[] | undefined) ?? []).map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));

  it('a completion stream becomes text_completion chunks, usage (when asked) and [DONE]', () => {
    const t = new WorkersAIStreamTransformer('completion', MODEL, true, undefined);
    const out = run(t, [
      '{"response":"Once"}',
      '{"response":" upon"}',
      '{"response":"","usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}}',
      '[DONE]',
    ]);
    expect(
      out
        .filter((c) => c !== '[DONE]' && c.choices.length)
        .map((c) => c.choices[0].text)
        .join(''),
    ).to.equal('Once upon');
    expect(out.every((c) => c === '[DONE]' || c.object === 'text_completion')).to.equal(true);
    expect(out.at(-2).usage).to.deep.equal({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    expect(out.at(-1)).to.equal('[DONE]');
    expect(t.flush()).to.equal(undefined);
  });

  it('without include_usage there is no usage chunk; events after [DONE] are dropped', () => {
    const t = new WorkersAIStreamTransformer('chat', MODEL, false, undefined);
    const out = run(t, ['{"response":"Hi","usage":{"prompt_tokens":1,"completion_tokens":1}}', '[DONE]', '{"response":"late"}']);
    expect(out.some((c) => c !== '[DONE]' && c.usage)).to.equal(false);
    expect(
      out
        .filter((c) => c !== '[DONE]')
        .map((c) => c.choices[0].delta.content ?? '')
        .join(''),
    ).to.equal('Hi');
  });

  it('a stream cut before [DONE] fails at flush', () => {
    const t = new WorkersAIStreamTransformer('chat', MODEL, false, undefined);
    run(t, ['{"response":"Hi"}']);
    expect(() => t.flush()).to.throw(/ended before data: \[DONE\]/);
  });

  it('an event that is not JSON, or an error envelope, fails the stream with a 502', () => {
    const t = new WorkersAIStreamTransformer('chat', MODEL, false, undefined);
    expect(thrown(() => t.transform({ data: '{"response":' })).status).to.equal(502);
    const u = new WorkersAIStreamTransformer('chat', MODEL, false, undefined);
    const err = thrown(() => u.transform({ data: '{"success":false,"errors":[{"code":3040,"message":"No more data centers"}]}' }));
    expect(err.status).to.equal(502);
    expect(err.message).to.include('No more data centers');
  });
});

describe('workers-ai: errors', () => {
  it('keeps the status, joins errors[] with their codes, and keeps retry-after', () => {
    const err = mapWorkersAIError(429, jsonFixture('error-capacity'), { 'retry-after': '3' });
    expect(err.status).to.equal(429);
    expect(err.retryable).to.equal(true);
    expect(err.message).to.equal('workers-ai: No more data centers to forward the request to (code 3040)');
    expect(err.headers).to.deep.equal({ 'retry-after': '3' });
  });

  it('the daily free allocation (3036) is not retryable; a 403 is not; a 502 is', () => {
    expect(mapWorkersAIError(429, jsonFixture('error-account-limited'), {}).retryable).to.equal(false);
    expect(
      mapWorkersAIError(403, { success: false, errors: [{ code: 5016, message: 'User has not agreed to Llama3.2 model terms' }] }, {}).retryable,
    ).to.equal(false);
    expect(mapWorkersAIError(502, '', {}).retryable).to.equal(true);
    expect(mapWorkersAIError(502, '', {}).message).to.equal('workers-ai: answered status 502');
  });
});
