// End to end: the exact response cache through the real gateway (startGateway) with the in-memory
// backend (@waygate/cache-memory), driven by the official `openai` SDK and raw fetch, in front of the
// fake OpenAI upstream (a real HTTP server on loopback) whose request log counts upstream calls.
import { expect } from 'chai';
import OpenAI, { InternalServerError } from 'openai';
import { startGateway } from '@waygate/core';
import { OPENAI_CHAT_CODEC } from '@waygate/openai-api';
import type { ConfigNode, Gateway } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { LogCapture, readSSE } from './helpers/api-support.js';

const KEY = 'sk-cache-tenant-a';
const OTHER_KEY = 'sk-cache-tenant-b';
const CHAT = '/v1/chat/completions';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('exact cache end to end: OpenAI SDK → gateway (cache-memory) → fake OpenAI', function () {
  let fake: FakeOpenAI;
  let gw: Gateway;
  let logs: LogCapture;
  let n = 0;

  before(async () => {
    fake = await FakeOpenAI.start({ reply: 'Cached answers cost nothing at all', chunkCount: 4 });
    logs = new LogCapture('info');
    gw = await startGateway({ config: { plugins: ['@waygate/cache-memory'] }, port: 0, logger: logs.logger });
  });
  after(async () => {
    await gw?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  /** A prompt no other test sends, so entries never leak between tests. */
  function prompt(): Array<{ role: 'user'; content: string }> {
    return [{ role: 'user', content: `question ${++n} at ${Date.now()}` }];
  }

  function leaf(extra: ConfigNode = {}): ConfigNode {
    return { provider: 'openai', custom_host: fake.baseURL, cache: { mode: 'simple' }, ...extra };
  }

  function client(config: ConfigNode, opts: { apiKey?: string; headers?: Record<string, string>; portkey?: boolean } = {}): OpenAI {
    return new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: opts.apiKey ?? KEY,
      maxRetries: 0,
      defaultHeaders: { [opts.portkey ? 'x-portkey-config' : 'x-waygate-config']: JSON.stringify(config), ...opts.headers },
    });
  }

  function upstreamCalls(): number {
    return fake.requests.filter((r) => r.path === CHAT || r.path === '/v1/embeddings').length;
  }

  /** A raw streaming request (to compare events byte for byte). */
  async function rawStream(config: ConfigNode, messages: unknown, extra: Record<string, unknown> = {}) {
    const res = await fetch(gw.url + CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'x-waygate-config': JSON.stringify(config) },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true, ...extra }),
    });
    return { res, sse: await readSSE(res) };
  }

  it('a miss, then a hit: one upstream call, the same answer, statuses MISS then HIT, and the log line says so', async () => {
    const c = client(leaf());
    const messages = prompt();
    const first = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(first.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    const second = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(second.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(second.data).to.deep.equal(first.data);
    expect(upstreamCalls()).to.equal(1);
    expect(second.response.headers.get('x-waygate-provider')).to.equal('openai');
    expect(second.response.headers.get('x-waygate-target')).to.equal('config');
    const line = await logs.requestLine(second.response.headers.get('x-waygate-request-id')!);
    expect(line.cache).to.equal('HIT');
    expect(line.promptTokens, 'a hit costs no tokens').to.equal(undefined);
    const missLine = await logs.requestLine(first.response.headers.get('x-waygate-request-id')!);
    expect(missLine.cache).to.equal('MISS');
  });

  it('a different request (another prompt, another parameter) is a miss', async () => {
    const c = client(leaf());
    const messages = prompt();
    await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const other = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, temperature: 0.3 }).withResponse();
    expect(other.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(upstreamCalls()).to.equal(2);
  });

  it('expiry: past max_age (ms) the entry is not served', async () => {
    const c = client(leaf({ cache: { mode: 'simple', max_age: 1 } }));
    const messages = prompt();
    await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    await sleep(20);
    const again = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(again.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(upstreamCalls()).to.equal(2);
  });

  it('force refresh: REFRESH, the upstream is called, and the new answer replaces the old one', async () => {
    const messages = prompt();
    const first = await client(leaf()).chat.completions.create({ model: 'gpt-4o-mini', messages });
    const refreshed = await client(leaf(), { headers: { 'x-waygate-cache-force-refresh': 'true' } })
      .chat.completions.create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(refreshed.response.headers.get('x-waygate-cache-status')).to.equal('REFRESH');
    expect(refreshed.data.id).to.not.equal(first.id);
    expect(upstreamCalls()).to.equal(2);
    const after = await client(leaf()).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(after.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(after.data.id).to.equal(refreshed.data.id);
    expect(upstreamCalls()).to.equal(2);
  });

  it('tenant isolation: the same request with two API keys is two entries', async () => {
    const messages = prompt();
    const a = client(leaf(), { apiKey: KEY });
    const b = client(leaf(), { apiKey: OTHER_KEY });
    expect((await a.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse()).response.headers.get('x-waygate-cache-status')).to.equal(
      'MISS',
    );
    expect((await b.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse()).response.headers.get('x-waygate-cache-status')).to.equal(
      'MISS',
    );
    expect(upstreamCalls()).to.equal(2);
    expect(fake.requests.map((r) => r.headers.authorization)).to.deep.equal([`Bearer ${KEY}`, `Bearer ${OTHER_KEY}`]);
    expect((await b.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse()).response.headers.get('x-waygate-cache-status')).to.equal(
      'HIT',
    );
    expect(upstreamCalls()).to.equal(2);
  });

  it('the namespace header separates entries', async () => {
    const messages = prompt();
    await client(leaf()).chat.completions.create({ model: 'gpt-4o-mini', messages });
    const other = await client(leaf(), { headers: { 'x-waygate-cache-namespace': 'team-b' } })
      .chat.completions.create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(other.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(upstreamCalls()).to.equal(2);
  });

  it('errors are not cached: a 500, then a 200 (upstream called), then a hit', async () => {
    const c = client(leaf());
    const messages = prompt();
    fake.enqueue({ kind: 'status', status: 500 });
    let err: unknown;
    try {
      await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InternalServerError);
    const ok = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(ok.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(ok.data.choices[0]!.message.content).to.equal('Cached answers cost nothing at all');
    expect(upstreamCalls()).to.equal(2);
    const hit = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(hit.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(upstreamCalls()).to.equal(2);
  });

  it('a stream is stored as it passes and replayed chunk for chunk: the same events', async () => {
    const messages = prompt();
    const first = await rawStream(leaf(), messages, { stream_options: { include_usage: true } });
    expect(first.res.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(first.sse.data.length).to.be.greaterThan(4);
    expect(first.sse.data.at(-1)).to.equal('[DONE]');
    const second = await rawStream(leaf(), messages, { stream_options: { include_usage: true } });
    expect(second.res.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(second.res.headers.get('content-type')).to.match(/^text\/event-stream/);
    expect(second.sse.data).to.deep.equal(first.sse.data);
    expect(upstreamCalls()).to.equal(1);
  });

  it('a stream cut after it started is not stored', async () => {
    const messages = prompt();
    fake.enqueue({ kind: 'stream-cut', afterChunks: 2 });
    const cut = await rawStream(leaf(), messages);
    expect(cut.sse.data.at(-1)).to.not.equal('[DONE]');
    const again = await rawStream(leaf(), messages);
    expect(again.res.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(again.sse.data.at(-1)).to.equal('[DONE]');
    expect(upstreamCalls()).to.equal(2);
  });

  it('a JSON answer is replayed as a stream to a streaming request (the SDK reads the same text)', async () => {
    const c = client(leaf());
    const messages = prompt();
    const json = await c.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const raw = await rawStream(leaf(), messages);
    expect(raw.res.headers.get('x-waygate-cache-status')).to.equal('HIT');
    // The codec's events for that answer, less the usage chunk the request did not ask for.
    const expected = OPENAI_CHAT_CODEC.toEvents(json)
      .map((e) => e.data)
      .filter((d) => !d.includes('"choices":[]'));
    expect(raw.sse.data).to.deep.equal(expected);
    const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).to.equal(json.choices[0]!.message.content);
    expect(upstreamCalls()).to.equal(1);
  });

  it('a stream is replayed as JSON to a non-streaming request', async () => {
    const c = client(leaf());
    const messages = prompt();
    const stream = await c.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let id = '';
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    const json = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(json.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(json.data.object).to.equal('chat.completion');
    expect(json.data.id).to.equal(id);
    expect(json.data.choices[0]!.message.content).to.equal(text);
    expect(json.data.choices[0]!.finish_reason).to.equal('stop');
    expect(json.data.usage?.completion_tokens).to.equal(6);
    expect(upstreamCalls()).to.equal(1);
  });

  it("Portkey's dialect: x-portkey-cache-status, and Portkey's force-refresh header", async () => {
    const messages = prompt();
    const first = await client(leaf(), { portkey: true }).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(first.response.headers.get('x-portkey-cache-status')).to.equal('MISS');
    expect(first.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    const hit = await client(leaf(), { portkey: true }).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(hit.response.headers.get('x-portkey-cache-status')).to.equal('HIT');
    const refresh = await client(leaf(), { portkey: true, headers: { 'x-portkey-cache-force-refresh': 'true' } })
      .chat.completions.create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(refresh.response.headers.get('x-portkey-cache-status')).to.equal('REFRESH');
    expect(upstreamCalls()).to.equal(2);
    const plain = await client(leaf()).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(plain.response.headers.get('x-portkey-cache-status'), "no Portkey header outside Portkey's dialect").to.equal(null);
  });

  it('DISABLED without a cache config: every request reaches the upstream', async () => {
    const c = client({ provider: 'openai', custom_host: fake.baseURL });
    const messages = prompt();
    const a = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    const b = await c.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(a.response.headers.get('x-waygate-cache-status')).to.equal('DISABLED');
    expect(b.response.headers.get('x-waygate-cache-status')).to.equal('DISABLED');
    expect(upstreamCalls()).to.equal(2);
  });

  it('a fallback stores under the target that answered, and the next request hits it without calling any upstream', async () => {
    const config: ConfigNode = {
      strategy: { mode: 'fallback' },
      cache: { mode: 'simple' },
      targets: [
        { provider: 'openai', custom_host: fake.baseURL, api_key: 'sk-first' },
        { provider: 'openai', custom_host: fake.baseURL, api_key: 'sk-second' },
      ],
    };
    const messages = prompt();
    fake.enqueue({ kind: 'status', status: 503 });
    const first = await client(config).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(first.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
    expect(upstreamCalls()).to.equal(2);
    const second = await client(config).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(second.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(second.response.headers.get('x-waygate-target')).to.equal('config.targets[1]');
    expect(second.data).to.deep.equal(first.data);
    expect(upstreamCalls()).to.equal(2);
  });

  it('embeddings are cached too', async () => {
    const c = client(leaf());
    const input = `embed me ${++n}`;
    const a = await c.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' }).withResponse();
    const b = await c.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' }).withResponse();
    expect(a.response.headers.get('x-waygate-cache-status')).to.equal('MISS');
    expect(b.response.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(b.data).to.deep.equal(a.data);
    expect(upstreamCalls()).to.equal(1);
  });
});
