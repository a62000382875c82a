// End to end against a real Redis: gateways (startGateway) with the in-memory default and this plugin
// loaded from the config, in front of a recording OpenAI-shaped upstream on loopback (the test kit's
// OpenAIFake). Two gateways on one Redis stand for two replicas. CI=true makes a missing Redis a
// failure; elsewhere a skip.
import { expect } from 'chai';
import { createLogger, startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import { RedisCache } from '../src/index.js';
import { OpenAIFake, REDIS_URL, TcpProxy, eventually, useRedis } from '@waygate/core/testing';

const PREFIX = `waygate:test:cache-e2e:${process.pid}:${Date.now()}:`;

interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

class LogSink {
  readonly lines: LogLine[] = [];
  readonly logger = createLogger({
    level: 'info',
    destination: {
      write: (s: string) => {
        for (const l of s.split('\n')) if (l.trim()) this.lines.push(JSON.parse(l) as LogLine);
      },
    },
  });
}

describe('@waygate/cache-redis end to end (gateways sharing a Redis)', function () {
  let up: OpenAIFake;
  const gateways: Gateway[] = [];
  let n = 0;

  useRedis('the Redis cache end-to-end tests', PREFIX);
  before(async () => {
    up = await OpenAIFake.start();
    up.reply = 'Shared by replicas';
  });
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.close();
  });
  after(() => up?.close());

  async function gateway(url = REDIS_URL, logs?: LogSink): Promise<Gateway> {
    const g = await startGateway({
      config: {
        plugins: [
          '@waygate/cache-memory',
          { module: '@waygate/cache-redis', options: { url, keyPrefix: PREFIX, maxReconnectDelayMs: 200, commandTimeoutMs: 5_000 } },
        ],
      },
      port: 0,
      logger: (logs ?? new LogSink()).logger,
    });
    gateways.push(g);
    await (g.kernel.registry('caches').get('simple') as RedisCache).waitReady(3000);
    return g;
  }

  const config = (): ConfigNode => ({ provider: 'openai', api_key: 'sk-redis-e2e', custom_host: `${up.url}/v1`, cache: { mode: 'simple' } });

  async function ask(g: Gateway, content: string, stream = false): Promise<{ status: number; cache: string | null; text: string }> {
    const res = await fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(config()) },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...(stream ? { stream: true } : {}) }),
    });
    return { status: res.status, cache: res.headers.get('x-waygate-cache-status'), text: await res.text() };
  }

  it('takes over `simple` from the in-memory default', async () => {
    const g = await gateway();
    expect(g.kernel.registry('caches').pluginOf('simple')).to.equal('@waygate/cache-redis');
    expect(g.kernel.registry('caches').get('simple')).to.be.instanceOf(RedisCache);
  });

  it('one replica stores, another replica hits: the upstream is called once', async () => {
    const [a, b] = [await gateway(), await gateway()];
    const q = `replicas ${++n} ${Date.now()}`;
    const calls = up.bodies.length;
    const first = await ask(a, q);
    expect(first.cache).to.equal('MISS');
    const second = await ask(b, q);
    expect(second.cache).to.equal('HIT');
    expect(second.text).to.equal(first.text);
    expect(up.bodies.length - calls).to.equal(1);
  });

  it('a stream stored through one replica is replayed event for event by another', async () => {
    const [a, b] = [await gateway(), await gateway()];
    const q = `stream ${++n} ${Date.now()}`;
    const calls = up.bodies.length;
    const first = await ask(a, q, true);
    expect(first.cache).to.equal('MISS');
    expect(first.text).to.include('data: [DONE]');
    const second = await ask(b, q, true);
    expect(second.cache).to.equal('HIT');
    expect(second.text).to.equal(first.text);
    const json = await ask(b, q);
    expect(json.cache).to.equal('HIT');
    expect(JSON.parse(json.text).choices[0].message.content).to.equal('Shared by replicas');
    expect(up.bodies.length - calls).to.equal(1);
  });

  it('Redis going away mid-run: requests still succeed as MISS (one warning), and hits resume when Redis is back', async () => {
    const proxy = await TcpProxy.forRedis(REDIS_URL);
    const logs = new LogSink();
    try {
      const g = await gateway(proxy.urlFor(REDIS_URL), logs);
      const backend = g.kernel.registry('caches').get('simple') as RedisCache;
      const q = `outage ${++n} ${Date.now()}`;
      expect((await ask(g, q)).cache).to.equal('MISS');
      expect((await ask(g, q)).cache).to.equal('HIT');

      await proxy.cut();
      await eventually(2000, () => !backend.ready, 'the gateway noticed Redis is gone');
      const calls = up.bodies.length;
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) {
        const r = await ask(g, q);
        expect(r.status).to.equal(200);
        expect(r.cache).to.equal('MISS');
        expect(JSON.parse(r.text).choices[0].message.content).to.equal('Shared by replicas');
      }
      // Bounded: Redis trouble adds no wait to a request (a generous bound for five requests).
      expect(performance.now() - t0).to.be.lessThan(2000);
      expect(up.bodies.length - calls).to.equal(5);
      const warnings = logs.lines.filter((l) => l.level === 'warn' && /Redis is unavailable/.test(l.msg));
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.plugin).to.equal('@waygate/cache-redis');

      await proxy.resume();
      await backend.waitReady(5000);
      const back = await ask(g, q);
      expect(back.cache, 'the entry written before the outage is still in Redis').to.equal('HIT');
    } finally {
      await proxy.close();
    }
  });

  it('closes its Redis connection when the gateway stops', async () => {
    const g = await gateway();
    const backend = g.kernel.registry('caches').get('simple') as RedisCache;
    expect(backend.ready).to.equal(true);
    await g.close();
    gateways.splice(gateways.indexOf(g), 1);
    expect(backend.ready).to.equal(false);
    await eventually(1000, () => backend.status === 'end', 'the connection ended');
  });
});
