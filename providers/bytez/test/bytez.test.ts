// The Bytez adapter's mapping (pure functions) and the package in a running gateway in front of a
// loopback fake that speaks Bytez's models/v2 wire format: answers, text streams (as written, one byte
// at a time, cut short, empty), errors and what reaches the upstream.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, parseSSE, startGateway } from '@waygate/core';
import type { BuildInput, Gateway } from '@waygate/core';
import { thrown } from '@waygate/core/testing';
import { buildChat, fromBytezChat, modelPath, toBytezChat } from '../src/index.js';
import { FakeBytez } from './fake.js';
import { jsonFixture, streamFixture } from './fixtures.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const KEY = 'bytez-test-key-0123456789abcdef';
const MODEL = 'Qwen/Qwen3-4B';
const MESSAGES = [{ role: 'user', content: 'Say hello' }];

function input(body: Record<string, unknown>, apiKey = KEY): BuildInput {
  const ctx = { id: 'req-1', headers: {} } as unknown as BuildInput['ctx'];
  return { ctx, target: { provider: 'bytez', apiKey, baseURL: 'https://api.bytez.com/models/v2', node: { provider: 'bytez' }, path: 'config' }, body };
}

describe('@waygate/provider-bytez: request mapping', () => {
  it('posts to {base}/{modelId} with Key auth, messages as content blocks, generation options under params', () => {
    const req = buildChat(
      input({
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            ],
          },
          { role: 'assistant', content: 'A cat.' },
        ],
        max_completion_tokens: 20,
        max_tokens: 99,
        temperature: 0,
        top_p: 1,
        stop: ['END'],
        seed: 7,
      }),
    );
    expect(req.method).to.equal('POST');
    expect(req.url).to.equal('https://api.bytez.com/models/v2/meta-llama/Llama-3.1-8B-Instruct');
    expect(req.headers).to.include({ authorization: `Key ${KEY}`, 'content-type': 'application/json' });
    expect(JSON.parse(req.body as string)).to.deep.equal({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', url: 'https://example.com/cat.png' },
            { type: 'image', base64: 'iVBORw0KGgo=' },
            { type: 'audio', base64: 'UklGRg==' },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
      ],
      stream: false,
      params: { max_new_tokens: 20, temperature: 0, top_p: 1 },
    });
  });

  it('sends no authorization header without a key', () => {
    expect(buildChat(input({ model: MODEL, messages: MESSAGES }, '')).headers).not.to.have.property('authorization');
  });

  it('encodes model id segments and refuses ids that would name another path', () => {
    expect(modelPath('openai-community/gpt2')).to.equal('openai-community/gpt2');
    expect(modelPath('org/a b?c')).to.equal('org/a%20b%3Fc');
    for (const bad of ['../list/models', 'a//b', '/a', 'a/./b', '', undefined]) {
      const err = thrown(() => modelPath(bad));
      expect([err.status, err.param], String(bad)).to.deep.equal([400, 'model']);
    }
  });

  it('refuses what Bytez has no place for with a 400 naming the field', () => {
    const base = { model: MODEL, messages: MESSAGES };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
      [{ response_format: { type: 'json_object' } }, 'response_format'],
      [{ logprobs: true }, 'logprobs'],
      [{ n: 2 }, 'n'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'tool', tool_call_id: 'x', content: '1' }] }, 'messages[0]'],
      [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'x' }] }] }, 'messages[0]'],
      [{ messages: [{ role: 'user', content: [{ type: 'file', file: {} }] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content[0]'],
    ];
    for (const [extra, param] of cases) {
      const err = thrown(() => toBytezChat({ ...base, ...extra }));
      expect([err.status, err.code, err.param], JSON.stringify(extra)).to.deep.equal([400, 'invalid_request', param]);
    }
    // Empty or default values of refused options pass.
    expect(() => toBytezChat({ ...base, tools: [], response_format: { type: 'text' }, logprobs: false, n: 1 })).not.to.throw();
  });
});

describe('@waygate/provider-bytez: response mapping', () => {
  it('reads a message with text blocks, a message with string content, and a text-generation string', () => {
    const text = (json: unknown) => fromBytezChat(json, MODEL, 'r1').choices[0].message.content;
    expect(text(jsonFixture('chat-answer'))).to.equal('Hello! How can I help you today?');
    expect(text(jsonFixture('chat-answer-string'))).to.equal('Bonjour !');
    expect(text(jsonFixture('text-answer'))).to.match(/^Once upon a time/);
    const out = fromBytezChat(jsonFixture('chat-answer'), MODEL, 'r1');
    expect(out).to.include({ object: 'chat.completion', id: 'chatcmpl-bytez-r1', model: MODEL });
    expect(out.choices[0].finish_reason).to.equal('stop');
    expect(out).not.to.have.property('usage');
  });

  it('an answer that is not {error, output}, or an output of another shape, is a retryable 502', () => {
    for (const bad of [[], 'text', { result: 'x' }, { error: null, output: 42 }, { error: null, output: { role: 'assistant' } }]) {
      const err = thrown(() => fromBytezChat(bad, MODEL, 'r1')) as any;
      expect([err.status, err.code, err.retryable], JSON.stringify(bad)).to.deep.equal([502, 'upstream_bad_response', true]);
    }
  });
});

/** What an SSE answer adds up to. */
async function read(res: Response): Promise<{ content: string; role?: string; finish?: string; error?: any; last?: string }> {
  const text = await res.text();
  let content = '';
  let role: string | undefined;
  let finish: string | undefined;
  let error: any;
  let last: string | undefined;
  for await (const ev of parseSSE(
    (async function* () {
      yield text;
    })(),
  )) {
    last = ev.data;
    if (ev.data === '[DONE]') continue;
    const c = JSON.parse(ev.data);
    if (c.error) error = c.error;
    for (const ch of c.choices ?? []) {
      role ??= ch.delta?.role;
      if (typeof ch.delta?.content === 'string') content += ch.delta.content;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  return { content, role, finish, error, last };
}

describe('@waygate/provider-bytez in a running gateway', function () {
  this.timeout(20_000);
  let fake: FakeBytez;
  let gw: Gateway;
  const logged: string[] = [];

  before(async () => {
    fake = await FakeBytez.start();
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', THIS_PACKAGE] },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'trace', destination: { write: (line: string) => void logged.push(line) } }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await fake?.close();
  });

  const post = (body: Record<string, unknown>) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify({ provider: 'bytez', api_key: KEY, custom_host: fake.base }) },
      body: JSON.stringify(body),
    });

  it('answers a chat completion from the model’s path', async () => {
    fake.reset({ body: jsonFixture('chat-answer') });
    const res = await post({ model: MODEL, messages: MESSAGES });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).to.equal(200);
    expect(json.choices[0].message).to.deep.equal({ role: 'assistant', content: 'Hello! How can I help you today?' });
    expect(fake.requests.map((r) => `${r.method} ${r.url} ${r.headers.authorization}`)).to.deep.equal([`POST /models/v2/${MODEL} Key ${KEY}`]);
  });

  for (const bytewise of [false, true]) {
    it(`streams the text as chunks ending with stop and [DONE]${bytewise ? ' (one byte at a time)' : ''}`, async () => {
      fake.reset({ parts: streamFixture('chat-stream'), bytewise });
      const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const got = await read(res);
      expect(got).to.deep.include({ content: 'Hello, wörld! How can I help?', role: 'assistant', finish: 'stop', last: '[DONE]' });
      expect(JSON.parse(fake.requests[0]!.body).stream).to.equal(true);
    });
  }

  it('a stream cut after it started ends with a terminal error event, no [DONE]', async () => {
    fake.reset({ parts: ['Hello, ', 'this will be cut'], cutAfter: 10 });
    const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
    expect(res.status).to.equal(200);
    const got = await read(res);
    expect(got.content).to.equal('Hello, thi');
    expect(got.error?.message).to.match(/The stream from bytez failed after it started/);
    expect(got.last).not.to.equal('[DONE]');
    expect(got.finish).to.equal(undefined);
  });

  it('a stream closed before any text is a retryable 502, not an empty answer', async () => {
    fake.reset({ parts: [] });
    const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(502);
    expect(json.error.message).to.include('bytez closed the stream without any text');
  });

  it('an error answer to a streamed request keeps its status and message', async () => {
    fake.reset({ status: 429, headers: { 'retry-after': '3' }, body: jsonFixture('error-rate-limited') });
    const res = await post({ model: MODEL, messages: MESSAGES, stream: true });
    const json = (await res.json()) as any;
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('3');
    expect(json.error.message).to.equal('bytez: Rate limit exceeded');
  });

  it('an answer that is not JSON is a 502; the key is in no answer and no log line', async () => {
    fake.reset({ body: '<html>502 Bad Gateway</html>' });
    const res = await post({ model: MODEL, messages: MESSAGES });
    expect(res.status).to.equal(502);
    const text = await res.text();
    expect(text).not.to.include(KEY);
    fake.reset({ status: 401, body: { error: `Unauthorized: key ${KEY} is invalid`, output: null } });
    const res2 = await post({ model: MODEL, messages: MESSAGES });
    expect(res2.status).to.equal(401);
    expect(await res2.text()).not.to.include(KEY);
    expect(logged.join('\n')).not.to.include(KEY);
  });

  it('a request Bytez cannot serve is a 400 before any upstream call', async () => {
    fake.reset({ body: jsonFixture('chat-answer') });
    const res = await post({ model: MODEL, messages: MESSAGES, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] });
    expect(res.status).to.equal(400);
    expect(((await res.json()) as any).error.param).to.equal('tools');
    expect(fake.requests).to.have.length(0);
  });
});
