// The Redis backend against a real Redis (REDIS_URL, default redis://127.0.0.1:6379). With CI=true a
// missing Redis fails the suite; elsewhere it is skipped with a message. Every key is under a prefix
// unique to this run, deleted afterwards.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { encodeAnswer } from '@waygate/cache-engine';
import type { CachedAnswer } from '@waygate/cache-engine';
import plugin, { RedisCache, RedisCacheOptionsSchema, redactUrl } from '../src/index.js';
import type { RedisCacheSettings } from '../src/index.js';
import { LogCapture, REDIS_URL, TcpProxy, eventually, useRedis } from '@waygate/core/testing';

const PREFIX = `waygate:test:cache:${process.pid}:${Date.now()}:`;

const entry: CachedAnswer = {
  endpoint: 'chat.completions',
  status: 200,
  headers: {},
  body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] },
  storedAt: 1_700_000_000_000,
};

/** The entry as a backend gives it back: the body's text kept beside it. */
const decoded: CachedAnswer = { ...entry, bodyJson: JSON.stringify(entry.body) };

// The command timeout is the tests' give-up bound for a working Redis, far above any round trip; a
// test of the timeout sets its own. The default, 100 ms, is shorter than the event loop is sometimes
// held up in a full run, and a store that times out is skipped without a word (as it should be in
// production), which fails the test later on.
function settings(over: Partial<RedisCacheSettings> = {}): RedisCacheSettings {
  return {
    url: REDIS_URL,
    keyPrefix: PREFIX,
    commandTimeoutMs: 5_000,
    connectTimeoutMs: 500,
    maxReconnectDelayMs: 200,
    warnIntervalMs: 60_000,
    maxEntryBytes: 1024 * 1024,
    ...over,
  };
}

describe('@waygate/cache-redis', () => {
  it('has a manifest with its package name, kind cache and core range; options default sensibly and refuse unknown keys', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/cache-redis', kind: 'cache', core: '^1.0.0' });
    expect(RedisCacheOptionsSchema.parse({})).to.deep.equal({
      keyPrefix: 'waygate:cache:',
      commandTimeoutMs: 100,
      connectTimeoutMs: 1000,
      maxReconnectDelayMs: 2000,
      warnIntervalMs: 60000,
      maxEntryBytes: 4194304,
    });
    expect(RedisCacheOptionsSchema.safeParse({ uri: 'redis://x' }).success).to.equal(false);
    expect(RedisCacheOptionsSchema.safeParse({ commandTimeoutMs: 0 }).success).to.equal(false);
  });

  it('redactUrl hides the password', () => {
    expect(redactUrl('redis://user:secret@host:6379/2')).to.equal('redis://user:***@host:6379/2');
    expect(redactUrl('not a url')).to.equal('(invalid URL)');
  });

  describe('without a Redis', () => {
    it('a lookup is a miss at once, a store is skipped, and one warning is logged for many misses', async () => {
      const logs = new LogCapture();
      const cache = new RedisCache(settings({ url: 'redis://:secret@127.0.0.1:1' }), { logger: logs });
      try {
        const t0 = performance.now();
        for (let i = 0; i < 20; i++) {
          expect(await cache.get('k')).to.equal(undefined);
          cache.set('k', entry, 1000);
        }
        // Bounded: nothing waits for a connection (a generous bound, not a benchmark).
        expect(performance.now() - t0).to.be.lessThan(1000);
        const warnings = logs.warnings();
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(/Redis is unavailable/);
        expect(JSON.stringify(logs.lines)).to.not.include('secret');
      } finally {
        await cache.close();
      }
    });
  });

  describe('against a real Redis', function () {
    const caches: RedisCache[] = [];
    let admin: Redis;

    useRedis('the Redis cache tests', PREFIX);
    before(async () => {
      admin = new Redis(REDIS_URL, { lazyConnect: true });
      await admin.connect();
    });
    afterEach(async () => {
      for (const c of caches.splice(0)) await c.close();
    });
    after(() => admin?.disconnect());

    async function open(over: Partial<RedisCacheSettings> = {}, logs?: LogCapture): Promise<RedisCache> {
      const c = new RedisCache(settings(over), { logger: logs });
      caches.push(c);
      await c.waitReady(3000);
      return c;
    }

    it('stores an entry under the prefix with SET … PX (Redis holds the TTL) in the compact form, and reads it back', async () => {
      const c = await open();
      await c.set('k1', entry, 60_000);
      const pttl = await admin.pttl(`${PREFIX}k1`);
      expect(pttl).to.be.greaterThan(0).and.at.most(60_000);
      expect(await admin.get(`${PREFIX}k1`)).to.equal(encodeAnswer(entry));
      expect(await c.get('k1')).to.deep.equal(decoded);
      expect(await c.get('absent')).to.equal(undefined);
    });

    it('a stream entry round-trips event for event', async () => {
      const c = await open();
      const stream: CachedAnswer = {
        endpoint: 'chat.completions',
        status: 200,
        headers: {},
        events: [{ data: '{"a":1}' }, { data: '[DONE]' }],
        storedAt: 5,
      };
      await c.set('s1', stream, 60_000);
      expect(await c.get('s1')).to.deep.equal(stream);
    });

    it('Redis expires an entry after its TTL', async () => {
      const c = await open();
      await c.set('short', entry, 30);
      await eventually(2000, async () => (await c.get('short')) === undefined, 'the entry expired');
      expect(await admin.exists(`${PREFIX}short`)).to.equal(0);
    });

    it('two backends (two replicas) share entries', async () => {
      const a = await open();
      const b = await open();
      await a.set('shared', entry, 60_000);
      expect(await b.get('shared')).to.deep.equal(decoded);
    });

    it('skips entries larger than maxEntryBytes, and treats a corrupt value as a miss', async () => {
      const c = await open({ maxEntryBytes: 50 });
      await c.set('big', entry, 60_000);
      expect(await admin.exists(`${PREFIX}big`)).to.equal(0);
      await admin.set(`${PREFIX}corrupt`, 'not json', 'PX', 60_000);
      expect(await c.get('corrupt')).to.equal(undefined);
    });

    it('a Redis that stops answering: each lookup is a miss after commandTimeoutMs, not a stall', async () => {
      const proxy = await TcpProxy.forRedis(REDIS_URL);
      const logs = new LogCapture();
      try {
        const c = await open({ url: proxy.urlFor(REDIS_URL), commandTimeoutMs: 50 }, logs);
        // Written directly: a set through c could itself outlast its 50 ms and be skipped.
        await admin.set(`${PREFIX}frozen`, encodeAnswer(entry), 'PX', 60_000);
        proxy.freeze();
        const t0 = performance.now();
        expect(await c.get('frozen')).to.equal(undefined);
        expect(await c.get('frozen')).to.equal(undefined);
        // Two timed-out lookups: about 2 × 50 ms (a generous bound).
        expect(performance.now() - t0).to.be.lessThan(1000);
        expect(logs.warnings()).to.have.length(1);
        proxy.thaw();
        await eventually(5000, async () => (await c.get('frozen')) !== undefined, 'lookups answer again');
      } finally {
        await proxy.close();
      }
    });

    it('Redis going away: lookups are misses at once (no stall), one warning, and it recovers when Redis is back', async () => {
      const proxy = await TcpProxy.forRedis(REDIS_URL);
      const logs = new LogCapture();
      try {
        const c = await open({ url: proxy.urlFor(REDIS_URL) }, logs);
        await c.set('outage', entry, 60_000);
        expect(await c.get('outage')).to.deep.equal(decoded);
        await proxy.cut();
        await eventually(2000, () => !c.ready, 'the client noticed the outage');
        const t0 = performance.now();
        for (let i = 0; i < 10; i++) expect(await c.get('outage')).to.equal(undefined);
        expect(performance.now() - t0, 'ten lookups while Redis is away').to.be.lessThan(1000);
        expect(logs.warnings()).to.have.length(1);
        await proxy.resume();
        await c.waitReady(5000);
        expect(await c.get('outage')).to.deep.equal(decoded);
        expect(logs.lines.some((l) => l.level === 'info' && /reachable again/.test(l.msg))).to.equal(true);
      } finally {
        await proxy.close();
      }
    });
  });
});
