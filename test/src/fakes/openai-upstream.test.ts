import { expect } from 'chai';
import { Agent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { FakeOpenAI } from './index.js';
import type { FakeOpenAIOptions } from './index.js';

/** POST JSON (or a raw string) to the fake. */
function post(fake: FakeOpenAI, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(fake.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((f) => f.length > 0)
    .map((f) => {
      expect(f.startsWith('data: '), `frame ${JSON.stringify(f)}`).to.equal(true);
      return f.slice('data: '.length);
    });
}

/** Read a body to its end or its failure; never throws. */
async function readAll(res: Response): Promise<{ text: string; error: unknown }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: undefined };
      text += dec.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

/** Read until at least `frames` SSE frames have arrived. */
async function readFrames(reader: ReadableStreamDefaultReader<Uint8Array>, frames: number): Promise<string> {
  const dec = new TextDecoder();
  let text = '';
  while (text.split('\n\n').length - 1 < frames) {
    const { done, value } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  return text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const CHAT = '/v1/chat/completions';

describe('FakeOpenAI (fake OpenAI upstream)', function () {
  this.timeout(10_000);
  let fake: FakeOpenAI;
  const started: FakeOpenAI[] = [];

  async function startFake(opts?: FakeOpenAIOptions): Promise<FakeOpenAI> {
    const f = await FakeOpenAI.start(opts);
    started.push(f);
    return f;
  }

  beforeEach(async () => {
    fake = await startFake();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.close()));
  });

  describe('start and addresses', () => {
    it('listens on an ephemeral loopback port and exposes url/baseURL/port', async () => {
      expect(fake.port).to.be.a('number').greaterThan(0);
      expect(fake.url).to.equal(`http://127.0.0.1:${fake.port}`);
      expect(fake.baseURL).to.equal(`${fake.url}/v1`);
      const res = await fetch(`${fake.baseURL}/models`);
      expect(res.status).to.equal(200);
    });

    it('rejects an invalid chunkCount', async () => {
      let err: unknown;
      try {
        await startFake({ chunkCount: 0 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(RangeError);
    });
  });

  describe('POST /v1/chat/completions', () => {
    it('answers a full chat.completion with the model echoed and words counted', async () => {
      const res = await post(fake, CHAT, {
        model: 'gpt-test',
        messages: [
          { role: 'system', content: 'You are  terse.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'say hi\tnow' },
              { type: 'image_url', image_url: { url: 'x' } },
            ],
          },
          { role: 'assistant', content: null },
        ],
      });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const body = (await res.json()) as any;
      expect(body.id).to.match(/^chatcmpl-/);
      expect(body.object).to.equal('chat.completion');
      expect(body.created).to.be.a('number');
      expect(Math.abs(body.created - Date.now() / 1000)).to.be.lessThan(5);
      expect(body.model).to.equal('gpt-test');
      expect(body.system_fingerprint).to.be.a('string');
      expect(body.choices).to.deep.equal([
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello from fake-openai', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ]);
      expect(body.usage).to.deep.equal({ prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 });
    });

    it('gives each completion a distinct id', async () => {
      const a = (await (await post(fake, CHAT, { model: 'm', messages: [] })).json()) as any;
      const b = (await (await post(fake, CHAT, { model: 'm', messages: [] })).json()) as any;
      expect(a.id).to.not.equal(b.id);
    });

    it('uses the name and reply options', async () => {
      const named = await startFake({ name: 'up-a' });
      const a = (await (await post(named, CHAT, { model: 'm', messages: [] })).json()) as any;
      expect(a.choices[0].message.content).to.equal('Hello from up-a');
      const custom = await startFake({ name: 'up-b', reply: 'one two three four five six' });
      const b = (await (await post(custom, CHAT, { model: 'm', messages: [] })).json()) as any;
      expect(b.choices[0].message.content).to.equal('one two three four five six');
      expect(b.usage.completion_tokens).to.equal(6);
    });

    it('truncates to max_tokens / max_completion_tokens words with finish_reason length', async () => {
      const f = await startFake({ reply: 'alpha beta  gamma delta epsilon' });
      const a = (await (await post(f, CHAT, { model: 'm', messages: [], max_tokens: 2 })).json()) as any;
      expect(a.choices[0].message.content).to.equal('alpha beta');
      expect(a.choices[0].finish_reason).to.equal('length');
      expect(a.usage.completion_tokens).to.equal(2);
      const b = (await (await post(f, CHAT, { model: 'm', messages: [], max_completion_tokens: 3 })).json()) as any;
      expect(b.choices[0].message.content).to.equal('alpha beta  gamma');
      expect(b.choices[0].finish_reason).to.equal('length');
      const c = (await (await post(f, CHAT, { model: 'm', messages: [], max_tokens: 5 })).json()) as any;
      expect(c.choices[0].message.content).to.equal('alpha beta  gamma delta epsilon');
      expect(c.choices[0].finish_reason).to.equal('stop');
    });

    it('streams chat.completion.chunk frames: role, chunkCount contents, finish, [DONE]', async () => {
      const f = await startFake({ chunkCount: 3, reply: 'The quick brown fox jumps' });
      const res = await post(f, CHAT, { model: 'gpt-stream', stream: true, messages: [{ role: 'user', content: 'a b' }] });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const data = sseData(await res.text());
      expect(data.at(-1)).to.equal('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks).to.have.length(1 + 3 + 1);
      const ids = new Set(chunks.map((c) => c.id));
      expect(ids.size).to.equal(1);
      for (const c of chunks) {
        expect(c.id).to.match(/^chatcmpl-/);
        expect(c.object).to.equal('chat.completion.chunk');
        expect(c.created).to.be.a('number');
        expect(c.model).to.equal('gpt-stream');
        expect(c).to.have.property('usage', null);
        expect(c.choices).to.have.length(1);
      }
      expect(chunks[0].choices[0].delta).to.deep.equal({ role: 'assistant', content: '' });
      const contents = chunks.slice(1, 4).map((c) => c.choices[0].delta.content);
      for (const c of chunks.slice(1, 4)) expect(c.choices[0].finish_reason).to.equal(null);
      expect(contents.join('')).to.equal('The quick brown fox jumps');
      expect(contents.every((c) => c.length > 0)).to.equal(true);
      expect(chunks[4].choices[0].delta).to.deep.equal({});
      expect(chunks[4].choices[0].finish_reason).to.equal('stop');
    });

    it('adds a usage chunk with choices [] when stream_options.include_usage', async () => {
      const res = await post(fake, CHAT, {
        model: 'm',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'one two three' }],
      });
      const data = sseData(await res.text());
      expect(data.at(-1)).to.equal('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks).to.have.length(1 + 5 + 1 + 1);
      const last = chunks.at(-1);
      expect(last.choices).to.deep.equal([]);
      expect(last.usage).to.deep.equal({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
      for (const c of chunks.slice(0, -1)) expect(c.usage).to.equal(null);
      expect(
        chunks
          .slice(1, 6)
          .map((c) => c.choices[0].delta.content)
          .join(''),
      ).to.equal('Hello from fake-openai');
    });

    it('streams a truncated reply with finish_reason length', async () => {
      const res = await post(fake, CHAT, { model: 'm', stream: true, max_tokens: 1, messages: [] });
      const chunks = sseData(await res.text())
        .slice(0, -1)
        .map((d) => JSON.parse(d));
      expect(
        chunks
          .slice(1, 6)
          .map((c) => c.choices[0].delta.content ?? '')
          .join(''),
      ).to.equal('Hello');
      expect(chunks[6].choices[0].finish_reason).to.equal('length');
    });

    it('rejects a body without model or messages with 400 OpenAI errors', async () => {
      const a = await post(fake, CHAT, { messages: [] });
      expect(a.status).to.equal(400);
      expect(((await a.json()) as any).error.type).to.equal('invalid_request_error');
      const b = await post(fake, CHAT, { model: 'm' });
      expect(b.status).to.equal(400);
      const err = ((await b.json()) as any).error;
      expect(err.param).to.equal('messages');
      expect(err.code).to.equal('missing_required_parameter');
    });
  });

  describe('POST /v1/completions', () => {
    it('answers a text_completion', async () => {
      const res = await post(fake, '/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test' });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as any;
      expect(body.id).to.match(/^cmpl-/);
      expect(body.object).to.equal('text_completion');
      expect(body.model).to.equal('gpt-3.5-turbo-instruct');
      expect(body.created).to.be.a('number');
      expect(body.choices).to.deep.equal([{ index: 0, text: 'Hello from fake-openai', logprobs: null, finish_reason: 'stop' }]);
      expect(body.usage).to.deep.equal({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    });

    it('counts token-array prompts and truncates to max_tokens', async () => {
      const res = await post(fake, '/v1/completions', { model: 'm', prompt: [[1, 2, 3], [4]], max_tokens: 2 });
      const body = (await res.json()) as any;
      expect(body.choices[0].text).to.equal('Hello from');
      expect(body.choices[0].finish_reason).to.equal('length');
      expect(body.usage).to.deep.equal({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    });

    it('streams text_completion chunks, finish chunk, usage chunk and [DONE]', async () => {
      const res = await post(fake, '/v1/completions', {
        model: 'm',
        prompt: 'a',
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const data = sseData(await res.text());
      expect(data.at(-1)).to.equal('[DONE]');
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      expect(chunks).to.have.length(5 + 1 + 1);
      for (const c of chunks) {
        expect(c.object).to.equal('text_completion');
        expect(c.id).to.match(/^cmpl-/);
        expect(c.model).to.equal('m');
      }
      expect(
        chunks
          .slice(0, 5)
          .map((c) => c.choices[0].text)
          .join(''),
      ).to.equal('Hello from fake-openai');
      expect(chunks[5].choices[0]).to.include({ text: '', finish_reason: 'stop' });
      expect(chunks[5].usage).to.equal(null);
      expect(chunks[6].choices).to.deep.equal([]);
      expect(chunks[6].usage).to.deep.equal({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
    });
  });

  describe('POST /v1/embeddings', () => {
    it('embeds a string into 8 deterministic unit-length floats', async () => {
      const a = (await (await post(fake, '/v1/embeddings', { model: 'text-embedding-3-small', input: 'hello world' })).json()) as any;
      expect(a.object).to.equal('list');
      expect(a.model).to.equal('text-embedding-3-small');
      expect(a.usage).to.deep.equal({ prompt_tokens: 2, total_tokens: 2 });
      expect(a.data).to.have.length(1);
      expect(a.data[0].object).to.equal('embedding');
      expect(a.data[0].index).to.equal(0);
      const v = a.data[0].embedding as number[];
      expect(v).to.have.length(8);
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      expect(norm).to.be.closeTo(1, 1e-5);
      const again = (await (await post(fake, '/v1/embeddings', { model: 'x', input: 'hello world' })).json()) as any;
      expect(again.data[0].embedding).to.deep.equal(v);
      const other = (await (await post(fake, '/v1/embeddings', { model: 'x', input: 'hello there' })).json()) as any;
      expect(other.data[0].embedding).to.not.deep.equal(v);
    });

    it('embeds arrays of strings and token arrays, honouring dimensions', async () => {
      const a = (await (await post(fake, '/v1/embeddings', { model: 'm', input: ['a b', 'c'], dimensions: 3 })).json()) as any;
      expect(a.data.map((d: any) => d.index)).to.deep.equal([0, 1]);
      expect(a.data[0].embedding).to.have.length(3);
      expect(a.usage.prompt_tokens).to.equal(3);
      const single = (await (await post(fake, '/v1/embeddings', { model: 'm', input: 'c', dimensions: 3 })).json()) as any;
      expect(a.data[1].embedding).to.deep.equal(single.data[0].embedding);
      const t = (await (
        await post(fake, '/v1/embeddings', {
          model: 'm',
          input: [
            [1, 2, 3],
            [4, 5],
          ],
        })
      ).json()) as any;
      expect(t.data).to.have.length(2);
      expect(t.usage).to.deep.equal({ prompt_tokens: 5, total_tokens: 5 });
      const one = (await (await post(fake, '/v1/embeddings', { model: 'm', input: [1, 2, 3] })).json()) as any;
      expect(one.data).to.have.length(1);
      expect(one.data[0].embedding).to.deep.equal(t.data[0].embedding);
    });

    it('encodes base64 as little-endian float32 of the same vector', async () => {
      const f = (await (await post(fake, '/v1/embeddings', { model: 'm', input: 'vec', dimensions: 16 })).json()) as any;
      const b = (await (await post(fake, '/v1/embeddings', { model: 'm', input: 'vec', dimensions: 16, encoding_format: 'base64' })).json()) as any;
      expect(b.data[0].embedding).to.be.a('string');
      const buf = Buffer.from(b.data[0].embedding, 'base64');
      expect(buf.length).to.equal(16 * 4);
      const decoded = Array.from({ length: 16 }, (_, i) => buf.readFloatLE(i * 4));
      expect(decoded).to.deep.equal(f.data[0].embedding);
    });

    it('rejects invalid input and dimensions with 400', async () => {
      const a = await post(fake, '/v1/embeddings', { model: 'm', input: [{ nope: 1 }] });
      expect(a.status).to.equal(400);
      expect(((await a.json()) as any).error.param).to.equal('input');
      const b = await post(fake, '/v1/embeddings', { model: 'm', input: 'x', dimensions: 0 });
      expect(b.status).to.equal(400);
      expect(((await b.json()) as any).error.param).to.equal('dimensions');
    });
  });

  describe('GET /v1/models and unknown routes', () => {
    it('lists models', async () => {
      const body = (await (await fetch(`${fake.baseURL}/models`)).json()) as any;
      expect(body.object).to.equal('list');
      expect(body.data.length).to.be.greaterThan(1);
      for (const m of body.data) {
        expect(m).to.have.all.keys('id', 'object', 'created', 'owned_by');
        expect(m.object).to.equal('model');
      }
      expect(body.data.map((m: any) => m.id)).to.include('gpt-4o-mini');
    });

    it('answers 404 OpenAI-shaped errors for unknown paths and wrong methods', async () => {
      for (const [method, path] of [
        ['POST', '/v1/nope'],
        ['GET', CHAT],
        ['POST', '/v1/models'],
      ] as const) {
        const res = await fetch(fake.url + path, method === 'POST' ? { method, body: '{}' } : { method });
        expect(res.status, `${method} ${path}`).to.equal(404);
        const body = (await res.json()) as any;
        expect(body.error).to.have.all.keys('message', 'type', 'param', 'code');
        expect(body.error.message).to.contain(path);
      }
    });

    it('answers 400 for a malformed JSON body', async () => {
      const res = await post(fake, CHAT, '{"model": "m", ');
      expect(res.status).to.equal(400);
      const body = (await res.json()) as any;
      expect(body.error.type).to.equal('invalid_request_error');
      expect(body.error).to.have.all.keys('message', 'type', 'param', 'code');
      expect(fake.requests[0]!.body).to.equal(undefined);
      expect(fake.requests[0]!.rawBody).to.equal('{"model": "m", ');
    });
  });

  describe('apiKey', () => {
    it('requires Authorization: Bearer <apiKey>', async () => {
      const f = await startFake({ apiKey: 'sk-right' });
      const none = await post(f, CHAT, { model: 'm', messages: [] });
      expect(none.status).to.equal(401);
      expect(((await none.json()) as any).error.type).to.equal('invalid_request_error');
      const wrong = await post(f, CHAT, { model: 'm', messages: [] }, { authorization: 'Bearer sk-wrong' });
      expect(wrong.status).to.equal(401);
      expect(((await wrong.json()) as any).error.code).to.equal('invalid_api_key');
      const right = await post(f, CHAT, { model: 'm', messages: [] }, { authorization: 'Bearer sk-right' });
      expect(right.status).to.equal(200);
    });
  });

  describe('request log', () => {
    it('records method, path, query, headers, rawBody, body', async () => {
      await post(fake, `${CHAT}?api-version=1&x=y`, { model: 'm', messages: [] }, { 'x-trace': 'abc' });
      await fetch(`${fake.baseURL}/models`);
      expect(fake.requests).to.have.length(2);
      const [a, b] = fake.requests;
      expect(a!.method).to.equal('POST');
      expect(a!.path).to.equal(CHAT);
      expect(a!.query).to.equal('api-version=1&x=y');
      expect(a!.headers['x-trace']).to.equal('abc');
      expect(a!.rawBody).to.equal('{"model":"m","messages":[]}');
      expect(a!.body).to.deep.equal({ model: 'm', messages: [] });
      expect(a!.aborted).to.equal(false);
      expect(b!.method).to.equal('GET');
      expect(b!.path).to.equal('/v1/models');
      expect(b!.query).to.equal('');
      expect(b!.rawBody).to.equal('');
      expect(b!.body).to.equal(undefined);
    });

    it('records the request before answering', async () => {
      fake.enqueue({ kind: 'delay', ms: 300 });
      const pending = post(fake, CHAT, { model: 'm', messages: [] });
      await fake.waitForRequests(1, 1000);
      expect(fake.requests).to.have.length(1);
      expect(fake.activeRequests()).to.equal(1);
      expect((await pending).status).to.equal(200);
    });

    it('keeps no log with record: false', async () => {
      const f = await startFake({ record: false });
      expect((await post(f, CHAT, { model: 'm', messages: [] })).status).to.equal(200);
      expect(f.requests).to.have.length(0);
      let err: unknown;
      try {
        await f.waitForRequests(1, 100);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
    });

    it('waitForRequests resolves on arrival and rejects on timeout', async () => {
      const waiting = fake.waitForRequests(2, 2000);
      await post(fake, CHAT, { model: 'm', messages: [] });
      await post(fake, CHAT, { model: 'm', messages: [] });
      await waiting;
      let err: unknown;
      try {
        await fake.waitForRequests(3, 50);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
      expect(String(err)).to.match(/timed out/);
    });

    it('reset() clears the log and the queue', async () => {
      await post(fake, CHAT, { model: 'm', messages: [] });
      fake.enqueue({ kind: 'status', status: 500 });
      fake.reset();
      expect(fake.requests).to.have.length(0);
      expect((await post(fake, CHAT, { model: 'm', messages: [] })).status).to.equal(200);
      expect(fake.requests).to.have.length(1);
    });
  });

  describe('behaviours', () => {
    it('applies queued behaviours in order, then ok', async () => {
      fake.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 429 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(fake, CHAT, { model: 'm', messages: [] })).status);
      expect(statuses).to.deep.equal([500, 429, 200]);
    });

    it('rejects unknown behaviours', () => {
      expect(() => fake.enqueue({ kind: 'explode' } as never)).to.throw(TypeError);
    });

    it('status: default OpenAI error bodies', async () => {
      fake.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 429 }, { kind: 'status', status: 400 });
      const a = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(a.headers.get('content-type')).to.match(/^application\/json/);
      const ea = ((await a.json()) as any).error;
      expect(ea).to.have.all.keys('message', 'type', 'param', 'code');
      expect(ea.type).to.equal('server_error');
      const eb = ((await (await post(fake, CHAT, { model: 'm', messages: [] })).json()) as any).error;
      expect(eb.code).to.equal('rate_limit_exceeded');
      const ec = ((await (await post(fake, CHAT, { model: 'm', messages: [] })).json()) as any).error;
      expect(ec.type).to.equal('invalid_request_error');
    });

    it('status: custom body and headers', async () => {
      fake.enqueue(
        { kind: 'status', status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': '7' } },
        { kind: 'status', status: 502, body: 'bad gateway', headers: { 'content-type': 'text/plain' } },
      );
      const a = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(a.status).to.equal(429);
      expect(a.headers.get('retry-after')).to.equal('7');
      expect(await a.json()).to.deep.equal({ error: { message: 'slow down' } });
      const b = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(b.status).to.equal(502);
      expect(b.headers.get('content-type')).to.equal('text/plain');
      expect(await b.text()).to.equal('bad gateway');
    });

    it('reset: destroys the socket without answering, then recovers', async () => {
      fake.enqueue({ kind: 'reset' });
      let err: unknown;
      try {
        await post(fake, CHAT, { model: 'm', messages: [] });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
      expect(fake.requests).to.have.length(1);
      expect(fake.requests[0]!.aborted).to.equal(false);
      expect((await post(fake, CHAT, { model: 'm', messages: [] })).status).to.equal(200);
    });

    it('delay: waits before answering, then ok or the given behaviour', async () => {
      fake.enqueue({ kind: 'delay', ms: 200 }, { kind: 'delay', ms: 100, then: { kind: 'status', status: 503 } });
      let t = Date.now();
      const a = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(Date.now() - t).to.be.at.least(190);
      expect(a.status).to.equal(200);
      t = Date.now();
      const b = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(Date.now() - t).to.be.at.least(90);
      expect(b.status).to.equal(503);
    });

    it('latencyMs: delays every answer', async () => {
      const f = await startFake({ latencyMs: 150 });
      const t = Date.now();
      const res = await fetch(`${f.baseURL}/models`);
      expect(Date.now() - t).to.be.at.least(140);
      expect(res.status).to.equal(200);
    });

    it('stream-cut: N content chunks then the connection drops (no [DONE])', async () => {
      fake.enqueue({ kind: 'stream-cut', afterChunks: 2 });
      const res = await post(fake, CHAT, { model: 'm', stream: true, messages: [] });
      expect(res.status).to.equal(200);
      const { text, error } = await readAll(res);
      expect(error).to.be.instanceOf(Error);
      const data = sseData(text);
      expect(data).to.have.length(3);
      expect(data).to.not.include('[DONE]');
      const chunks = data.map((d) => JSON.parse(d));
      expect(chunks[0].choices[0].delta.role).to.equal('assistant');
      const sent: string = chunks[1].choices[0].delta.content + chunks[2].choices[0].delta.content;
      expect(sent.length).to.be.greaterThan(0);
      expect('Hello from fake-openai'.startsWith(sent)).to.equal(true);
      await fake.waitForIdle(1000);
      expect(fake.requests[0]!.aborted).to.equal(false);
    });

    it('stream-cut on legacy completions with 0 chunks still sends 200 headers', async () => {
      fake.enqueue({ kind: 'stream-cut', afterChunks: 0 });
      const res = await post(fake, '/v1/completions', { model: 'm', prompt: 'x', stream: true });
      expect(res.status).to.equal(200);
      const { text, error } = await readAll(res);
      expect(error).to.be.instanceOf(Error);
      expect(text).to.equal('');
    });

    it('stream-error: N chunks then an error event and a clean end', async () => {
      fake.enqueue(
        { kind: 'stream-error', afterChunks: 1 },
        { kind: 'stream-error', afterChunks: 0, error: { message: 'boom', type: 'x', param: null, code: 'y' } },
      );
      const a = await post(fake, CHAT, { model: 'm', stream: true, messages: [] });
      const ra = await readAll(a);
      expect(ra.error).to.equal(undefined);
      const da = sseData(ra.text);
      expect(da).to.have.length(3);
      const last = JSON.parse(da[2]!);
      expect(last.error).to.have.all.keys('message', 'type', 'param', 'code');
      expect(last.error.type).to.equal('server_error');
      const b = await post(fake, CHAT, { model: 'm', stream: true, messages: [] });
      const db = sseData(await b.text());
      expect(db).to.have.length(2);
      expect(JSON.parse(db[1]!)).to.deep.equal({ error: { message: 'boom', type: 'x', param: null, code: 'y' } });
    });

    it('stream-stall: N chunks then silence until the client leaves; aborted is recorded', async () => {
      fake.enqueue({ kind: 'stream-stall', afterChunks: 2 });
      const ac = new AbortController();
      const res = await post(fake, CHAT, { model: 'm', stream: true, messages: [] }, {}, ac.signal);
      const reader = res.body!.getReader();
      const got = await readFrames(reader, 3);
      expect(sseData(got)).to.have.length(3);
      const more = await Promise.race([reader.read().then(() => 'data'), sleep(200).then(() => 'silence')]);
      expect(more).to.equal('silence');
      expect(fake.activeRequests()).to.equal(1);
      let err: unknown;
      try {
        await fake.waitForIdle(50);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
      ac.abort();
      await fake.waitForIdle(2000);
      expect(fake.activeRequests()).to.equal(0);
      expect(fake.requests[0]!.aborted).to.equal(true);
    });

    it('close() ends stalled streams', async () => {
      const f = await startFake();
      f.enqueue({ kind: 'stream-stall', afterChunks: 1 });
      const res = await post(f, CHAT, { model: 'm', stream: true, messages: [] });
      const reader = res.body!.getReader();
      await readFrames(reader, 2);
      expect(f.activeRequests()).to.equal(1);
      const closed = await Promise.race([f.close().then(() => 'closed'), sleep(2000).then(() => 'hung')]);
      expect(closed).to.equal('closed');
      const end = await Promise.race([
        reader.read().then(
          (r) => (r.done ? 'ended' : 'data'),
          () => 'ended',
        ),
        sleep(2000).then(() => 'hung'),
      ]);
      expect(end).to.equal('ended');
      expect(f.activeRequests()).to.equal(0);
      await f.close();
    });

    it('close() cuts a request that is still waiting out a delay', async () => {
      const f = await startFake();
      f.enqueue({ kind: 'delay', ms: 5000 });
      const pending = post(f, CHAT, { model: 'm', messages: [] }).then(
        () => 'answered',
        () => 'failed',
      );
      await f.waitForRequests(1, 1000);
      const t = Date.now();
      await f.close();
      expect(await pending).to.equal('failed');
      expect(Date.now() - t).to.be.lessThan(1000);
      expect(f.activeRequests()).to.equal(0);
    });

    it('malformed-sse: N chunks then a non-JSON data line, then end', async () => {
      fake.enqueue({ kind: 'malformed-sse', afterChunks: 2 });
      const res = await post(fake, CHAT, { model: 'm', stream: true, messages: [] });
      const { text, error } = await readAll(res);
      expect(error).to.equal(undefined);
      const data = sseData(text);
      expect(data).to.have.length(4);
      for (const d of data.slice(0, 3)) JSON.parse(d);
      expect(() => JSON.parse(data[3]!)).to.throw(SyntaxError);
      expect(data).to.not.include('[DONE]');
    });

    it('malformed-json: 200 application/json with an invalid body', async () => {
      fake.enqueue({ kind: 'malformed-json' });
      const res = await post(fake, CHAT, { model: 'm', messages: [] });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      const text = await res.text();
      expect(text.length).to.be.greaterThan(0);
      expect(() => JSON.parse(text)).to.throw(SyntaxError);
    });
  });

  describe('connections', () => {
    it('keeps connections alive across requests', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (): Promise<{ res: IncomingMessage; reused: boolean; body: string }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest(`${fake.baseURL}/models`, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ res, reused: req.reusedSocket, body }));
          });
          req.on('error', reject);
          req.end();
        });
      try {
        const a = await get();
        expect(a.res.headers.connection).to.equal('keep-alive');
        const b = await get();
        expect(b.reused).to.equal(true);
        expect(JSON.parse(b.body).object).to.equal('list');
      } finally {
        agent.destroy();
      }
    });

    it('activeRequests is 0 once answers are done, and aborted stays false', async () => {
      await (await post(fake, CHAT, { model: 'm', stream: true, messages: [] })).text();
      await fake.waitForIdle(1000);
      expect(fake.activeRequests()).to.equal(0);
      expect(fake.requests[0]!.aborted).to.equal(false);
    });

    it('close() is idempotent and stops listening', async () => {
      const f = await startFake();
      await f.close();
      await f.close();
      let err: unknown;
      try {
        await fetch(`${f.baseURL}/models`);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
    });
  });
});
