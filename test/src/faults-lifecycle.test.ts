// Fault suite, shutdown and start-up (issue 11, item 8), in process with loopback servers only:
// draining keeps the keep-alive connections open so that /health and new requests hear a clear 503,
// streams still running at the drain deadline end with a terminal error event in their endpoint's
// wire shape, and plugins that use Redis start (and serve) against a Redis that accepts connections
// and never answers.
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { LogCapture } from './helpers/api-support.js';
import { refusedWithin, sseData } from './helpers/proc-util.js';
import { ScriptedUpstream } from './helpers/scripted-upstream.js';

const KEY = 'sk-lifecycle-faults-key';
const MESSAGES = [{ role: 'user', content: 'hi' }];

/** An OpenAI-shaped upstream that never finishes: a stream sends its role and one content chunk and stalls; a JSON request is never answered. */
class StallingUpstream extends ScriptedUpstream {
  requests = 0;

  protected answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    this.requests++;
    if (!(JSON.parse(raw) as { stream?: boolean }).stream) return; // never answered
    const chunk = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Hel' }));
  }
}

/** A request over a given agent; resolves with status, headers and body text. */
function request(
  url: string,
  agent: http.Agent,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, { method, agent, headers: data ? { 'content-type': 'application/json', ...headers } : headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** A streamed request read as it comes: `first` resolves at the first content, `done` with all the text at the end. */
function stream(url: string, body: unknown, headers: Record<string, string>): { first: Promise<void>; done: Promise<{ status: number; text: string }> } {
  let sawFirst!: () => void;
  const first = new Promise<void>((resolve) => (sawFirst = resolve));
  const done = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        text += s;
        if (text.includes('Hel')) sawFirst();
      });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', () => resolve({ status: res.statusCode!, text }));
      res.on('aborted', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(data);
  });
  return { first, done };
}

/** A TCP server that accepts connections and never answers: the worst Redis. */
class SilentRedis {
  readonly #server = net.createServer((s) => {
    this.#sockets.add(s);
    this.connections++;
    s.on('close', () => this.#sockets.delete(s));
    s.on('data', () => undefined);
  });
  readonly #sockets = new Set<net.Socket>();
  connections = 0;
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `redis://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('faults: shutdown and start-up', function () {
  this.timeout(30_000);

  describe('draining', () => {
    let up: StallingUpstream;
    before(async () => {
      up = await new StallingUpstream().start();
    });
    after(() => up.close());

    it('answers 503 on open keep-alive connections (/health and new requests), refuses new connections, and ends running streams with a terminal event at the deadline', async () => {
      const gw = await startGateway({ config: { log: { level: 'silent' } }, port: 0, host: '127.0.0.1' });
      const route = { 'x-waygate-provider': 'openai', 'x-waygate-custom-host': up.url, authorization: `Bearer ${KEY}` };
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      try {
        // Two idle keep-alive connections, opened before the drain.
        const [a, b] = await Promise.all([request(`${gw.url}/health`, agent, 'GET'), request(`${gw.url}/health`, agent, 'GET')]);
        expect([a.status, b.status]).to.deep.equal([200, 200]);
        expect(Object.values(agent.freeSockets).flat()).to.have.length(2);

        // Two streams in their content (OpenAI's and Anthropic's wire shapes) and a JSON request waiting on its upstream.
        const chat = stream(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: MESSAGES, stream: true }, route);
        const messages = stream(`${gw.url}/v1/messages`, { model: 'gpt-4o-mini', max_tokens: 16, messages: MESSAGES, stream: true }, route);
        await Promise.all([chat.first, messages.first]);
        const json = request(`${gw.url}/v1/chat/completions`, new http.Agent(), 'POST', { model: 'gpt-4o-mini', messages: MESSAGES }, route);
        for (let i = 0; i < 200 && up.requests < 3; i++) await new Promise((r) => setTimeout(r, 10));
        expect(up.requests).to.equal(3);

        const closing = gw.close(3000);
        const health = await request(`${gw.url}/health`, agent, 'GET');
        expect(health.status).to.equal(503);
        expect(health.headers.connection).to.equal('close');
        expect(JSON.parse(health.text)).to.include({ status: 'draining' });
        const refused = await request(`${gw.url}/v1/chat/completions`, agent, 'POST', { model: 'gpt-4o-mini', messages: MESSAGES }, route);
        expect(refused.status).to.equal(503);
        expect(refused.headers.connection).to.equal('close');
        expect(JSON.parse(refused.text)).to.deep.include({
          error: { message: 'The gateway is shutting down', type: 'server_error', code: 'shutting_down', param: null },
        });
        expect(await refusedWithin(gw.port, '127.0.0.1', 1000), 'a new connection').to.equal('ECONNREFUSED');
        await closing;

        // The deadline passed: each stream ended with a terminal error event in its own shape.
        const c = await chat.done;
        const cData = sseData(c.text);
        expect(cData).to.not.include('[DONE]');
        const cLast = JSON.parse(cData[cData.length - 1]!) as { error: { message: string; code: string } };
        expect(cLast.error.message).to.match(/shutting down/);
        const m = await messages.done;
        const events = m.text.split('\n\n').filter(Boolean);
        expect(events[events.length - 1]).to.match(/^event: error\ndata: \{"type":"error","error":\{"type":"[a-z_]+","message":"[^"]*shutting down/);
        // The JSON request still waiting got a 503 that says why, not a reset.
        const j = await json;
        expect(j.status).to.equal(503);
        expect(JSON.parse(j.text).error).to.include({ code: 'shutting_down' });
      } finally {
        agent.destroy();
        await gw.close(0).catch(() => undefined);
      }
    });
  });

  describe('a Redis that accepts connections and never answers', () => {
    let redis: SilentRedis;
    let fake: FakeOpenAI;
    before(async () => {
      redis = await new SilentRedis().start();
      fake = await FakeOpenAI.start({ name: 'silent-redis-upstream' });
    });
    after(async () => {
      await redis.close();
      await fake.close();
    });

    /** Starts a gateway with one Redis plugin (the default plugin setup timeout applies), sends a chat request, and returns the warnings. */
    async function startsAndServes(
      plugin: { module: string; options: Record<string, unknown> },
      headers: Record<string, string> = {},
    ): Promise<LogCapture> {
      const logs = new LogCapture('warn');
      const before = redis.connections;
      const gw = await startGateway({ config: { plugins: [plugin] }, port: 0, host: '127.0.0.1', logger: logs.logger });
      try {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-waygate-provider': 'openai',
            'x-waygate-custom-host': fake.baseURL,
            authorization: 'Bearer sk-x',
            ...headers,
          },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES }),
        });
        expect(res.status, await res.clone().text()).to.equal(200);
        expect(((await res.json()) as { object: string }).object).to.equal('chat.completion');
        await logs.waitFor(
          (r) => r.level === 'warn' && r.plugin === plugin.module && /Redis/.test(String(r.msg)),
          `a Redis warning from ${plugin.module}`,
        );
        expect(redis.connections, 'the plugin did connect to the silent Redis').to.be.greaterThan(before);
        return logs;
      } finally {
        await gw.close(0);
      }
    }

    it('the circuit breaker (store "redis") starts within its bounds, warns, and decides locally', async () => {
      await startsAndServes({ module: '@waygate/circuit-breaker', options: { store: 'redis', redisUrl: redis.url } });
    });

    it('the Redis response cache starts, warns, and serves uncached', async () => {
      await startsAndServes(
        { module: '@waygate/cache-redis', options: { url: redis.url } },
        { 'x-waygate-config': JSON.stringify({ cache: { mode: 'simple' } }) },
      );
    });

    it('the semantic cache (store "redis") starts, warns, and serves with lookups as misses', async () => {
      await startsAndServes(
        {
          module: '@waygate/cache-semantic',
          options: {
            store: 'redis',
            redisUrl: redis.url,
            embedding: { provider: 'openai', model: 'text-embedding-3-small', api_key: 'sk-emb', custom_host: fake.baseURL },
          },
        },
        { 'x-waygate-config': JSON.stringify({ cache: { mode: 'semantic' } }) },
      );
    });
  });
});
