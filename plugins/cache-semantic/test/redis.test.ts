// The Redis store against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): two stores (or
// two gateways) on one Redis stand for two replicas. With CI=true a missing Redis fails the suite;
// elsewhere these tests are skipped with a message. Every key is under a prefix unique to this run,
// removed at the end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createLogger, startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import { REDIS_URL, TcpProxy, eventually, useRedis } from '@waygate/core/testing';
import { RedisSemanticStore, normalize } from '../src/index.js';
import type { RedisStoreOptions, SemanticCacheHandle } from '../src/index.js';
import { FakeModel, basis, near } from './fake-upstream.js';

const PREFIX = `waygate:test:semcache:${process.pid}:${Date.now()}:`;
const PLUGIN = fileURLToPath(new URL('../src/index.js', import.meta.url));
const silent = createLogger({ level: 'silent' });
const v = (...xs: number[]) => normalize(xs)!;

describe('@waygate/cache-semantic Redis store (shared by replicas)', function () {
  let admin: Redis | undefined;
  const stores: RedisSemanticStore[] = [];
  let n = 0;
  const partition = () => `p${++n}`;

  useRedis('the Redis semantic-cache tests', PREFIX);
  before(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true });
    await admin.connect();
  });
  afterEach(() => Promise.all(stores.splice(0).map((s) => s.close())));
  after(() => admin?.disconnect());

  // Command timeouts here are give-up bounds for a working Redis, far above a round trip: a loaded
  // run can hold the event loop for longer than a production timeout, and a store that times out
  // skips the write without a word (as it should in production), which would fail a test later on.
  async function replica(opts: Partial<RedisStoreOptions> = {}): Promise<RedisSemanticStore> {
    const s = new RedisSemanticStore({
      url: REDIS_URL,
      keyPrefix: PREFIX,
      maxEntriesPerPartition: 100,
      maxLocalEntries: 10_000,
      commandTimeoutMs: 5_000,
      connectTimeoutMs: 2_000,
      ...opts,
    });
    stores.push(s);
    expect(await s.ready()).to.equal(true);
    return s;
  }

  it('an answer stored by one replica is found by another, by meaning and by identical text', async () => {
    const a = await replica();
    const b = await replica();
    const p = partition();
    await a.add(p, v(1, 0, 0, 0), 'aa'.repeat(16), 'ANSWER', 60_000);
    await b.sync([p]);
    const m = b.nearest(p, v(1, 0.1, 0, 0), 0.9, Date.now())!;
    expect(m.score).to.be.closeTo(1 / Math.sqrt(1.01), 1e-6);
    expect(await b.answer(p, m.id)).to.equal('ANSWER');
    expect(b.byText(p, 'aa'.repeat(16), Date.now())).to.equal(m.id);
    expect(b.nearest(p, v(0, 1, 0, 0), 0.9, Date.now())).to.equal(undefined);
    expect(b.syncs.full).to.equal(1);
  });

  it('brings a local copy up to date with only the changes since, and skips the download when nothing changed', async () => {
    const a = await replica();
    const b = await replica();
    const p = partition();
    await a.add(p, v(1, 0), '', 'A1', 60_000);
    await b.sync([p]);
    await b.sync([p]);
    expect(b.syncs).to.deep.equal({ unchanged: 1, delta: 0, full: 1 });
    await a.add(p, v(0, 1), '', 'A2', 60_000);
    await a.add(p, v(1, 1), '', 'A3', 60_000);
    await b.sync([p]);
    expect(b.syncs.delta).to.equal(1);
    expect(b.localIndex(p)!.size).to.equal(3);
    const m = b.nearest(p, v(0, 1), 0.99, Date.now())!;
    expect(await b.answer(p, m.id)).to.equal('A2');
    // A removal reaches the other replica the same way.
    a.remove(p, m.id);
    await eventually(
      5_000,
      async () => {
        await b.sync([p]);
        return b.localIndex(p)!.size === 2;
      },
      'the removal',
    );
    expect(b.nearest(p, v(0, 1), 0.99, Date.now())).to.equal(undefined);
    expect(b.syncs.full).to.equal(1);
  });

  it('reloads the whole partition when it is further behind than the change log, or the partition was recreated', async () => {
    const a = await replica({ logMax: 3 });
    const b = await replica({ logMax: 3 });
    const p = partition();
    await a.add(p, v(1, 0), '', 'first', 60_000);
    await b.sync([p]);
    for (let i = 0; i < 5; i++) await a.add(p, v(1, i + 1), '', `more${i}`, 60_000);
    await b.sync([p]);
    expect(b.syncs.full).to.equal(2);
    expect(b.localIndex(p)!.size).to.equal(6);

    // The partition's keys vanish (expiry, eviction) and it is written again from scratch: a new epoch.
    const keys = await admin!.keys(`${PREFIX}{${p}}:*`);
    await admin!.del(...keys);
    await a.add(p, v(0, 1), '', 'reborn', 60_000);
    await b.sync([p]);
    expect(b.syncs.full).to.equal(3);
    expect(b.localIndex(p)!.size).to.equal(1);
    const m = b.nearest(p, v(0, 1), 0.99, Date.now())!;
    expect(await b.answer(p, m.id)).to.equal('reborn');
  });

  it('bounds a partition to maxEntriesPerPartition, dropping the oldest with their answers', async () => {
    const a = await replica({ maxEntriesPerPartition: 3 });
    const p = partition();
    for (let i = 0; i < 5; i++) await a.add(p, v(1, i), '', `A${i}`, 60_000);
    expect(await admin!.zcard(`${PREFIX}{${p}}:z`)).to.equal(3);
    expect(await admin!.hlen(`${PREFIX}{${p}}:v`)).to.equal(3);
    const answers = await admin!.keys(`${PREFIX}{${p}}:a:*`);
    expect(answers).to.have.length(3);
    const b = await replica();
    await b.sync([p]);
    expect(b.localIndex(p)!.size).to.equal(3);
    expect(b.nearest(p, v(1, 0), 0.9999, Date.now())).to.equal(undefined);
  });

  it("evicts in the order stored, whatever the replicas' clocks say (many adds in one millisecond, a clock behind)", async () => {
    // Every entry of a replica carries the same instant (a warm run stores several per millisecond),
    // and b's clock is a minute behind a's: the entries stored first are still the ones evicted.
    const t = Date.now();
    const a = await replica({ maxEntriesPerPartition: 3, now: () => t });
    const b = await replica({ maxEntriesPerPartition: 3, now: () => t - 60_000 });
    const p = partition();
    for (let i = 0; i < 8; i++) await (i % 2 ? b : a).add(p, v(1, i), '', `A${i}`, 120_000);
    const answerKeys = await admin!.keys(`${PREFIX}{${p}}:a:*`);
    const answers = await Promise.all(answerKeys.map((k) => admin!.get(k)));
    expect(answers.sort()).to.deep.equal(['A5', 'A6', 'A7']);
    const ids = answerKeys.map((k) => k.slice(k.lastIndexOf(':') + 1)).sort();
    expect((await admin!.hkeys(`${PREFIX}{${p}}:v`)).sort()).to.deep.equal(ids);
    expect((await admin!.zrange(`${PREFIX}{${p}}:z`, 0, -1)).sort()).to.deep.equal(ids);
  });

  it('keeps the order of a partition whose scores are times stored (as written before the order was kept by Redis)', async () => {
    const a = await replica({ maxEntriesPerPartition: 3 });
    const p = partition();
    for (let i = 0; i < 2; i++) await a.add(p, v(1, i), '', `A${i}`, 60_000);
    const z = `${PREFIX}{${p}}:z`;
    const [first, second] = await admin!.zrange(z, 0, -1);
    const t = Date.now();
    const byAnswer = new Map<string, string>();
    for (const id of [first!, second!]) byAnswer.set((await admin!.get(`${PREFIX}{${p}}:a:${id}`))!, id);
    await admin!.zadd(z, 'XX', t - 2_000, byAnswer.get('A0')!, t - 1_000, byAnswer.get('A1')!);
    for (let i = 2; i < 5; i++) await a.add(p, v(1, i), '', `A${i}`, 60_000);
    const answers = await Promise.all((await admin!.keys(`${PREFIX}{${p}}:a:*`)).map((k) => admin!.get(k)));
    expect(answers.sort()).to.deep.equal(['A2', 'A3', 'A4']);
  });

  it('expires entries: the vector is skipped and the answer is gone from Redis', async () => {
    // The local copies judge expiry by the store's clock, set here, so nothing depends on how fast
    // the run is; Redis expires the answer by its own clock, which the test waits for.
    let clock = Date.now();
    const a = await replica({ now: () => clock });
    const p = partition();
    await a.add(p, v(1, 0), 'bb'.repeat(16), 'short-lived', 150);
    await a.sync([p]);
    expect(a.nearest(p, v(1, 0), 0.9, clock)).to.not.equal(undefined);
    expect(a.byText(p, 'bb'.repeat(16), clock)).to.not.equal(undefined);
    clock += 149;
    expect(a.nearest(p, v(1, 0), 0.9, clock)).to.not.equal(undefined);
    clock += 1;
    expect(a.nearest(p, v(1, 0), 0.9, clock)).to.equal(undefined);
    expect(a.byText(p, 'bb'.repeat(16), clock)).to.equal(undefined);
    // A replica that loads the partition after the expiry leaves the vector out.
    const b = await replica({ now: () => clock });
    await b.sync([p]);
    expect(b.localIndex(p)).to.equal(undefined);
    await eventually(5_000, async () => (await admin!.keys(`${PREFIX}{${p}}:a:*`)).length === 0, 'Redis expiring the answer');
  });

  describe('end to end: two gateways on one Redis', function () {
    let fake: FakeModel;
    const gateways: Gateway[] = [];
    before(async () => {
      fake = await FakeModel.start();
    });
    after(async () => {
      await Promise.all(gateways.splice(0).map((g) => g.close(0)));
      await fake?.close();
    });
    beforeEach(() => fake.reset());

    async function gateway(redisUrl = REDIS_URL, logger = silent): Promise<{ gw: Gateway; cache: SemanticCacheHandle }> {
      const gw = await startGateway({
        config: {
          defaultPlugins: false,
          plugins: [
            // The core serves no endpoint of its own: OpenAI's API is a plugin.
            '@waygate/openai-api',
            '@waygate/provider-openai',
            {
              module: PLUGIN,
              options: {
                embedding: { provider: 'openai', model: 'emb-1', api_key: 'sk-emb', custom_host: `${fake.url}/v1` },
                threshold: 0.9,
                store: 'redis',
                redisUrl,
                keyPrefix: PREFIX,
                redisCommandTimeoutMs: 5_000,
                redisConnectTimeoutMs: 500,
              },
            },
          ],
        },
        port: 0,
        host: '127.0.0.1',
        logger,
      });
      gateways.push(gw);
      return { gw, cache: gw.kernel.registry('caches').get('semantic') as SemanticCacheHandle };
    }

    const leaf = (): ConfigNode => ({ provider: 'openai', api_key: 'sk-client', custom_host: `${fake.url}/v1`, cache: { mode: 'semantic' } });
    async function ask(g: { gw: Gateway; cache: SemanticCacheHandle }, text: string, system: string, stream = false) {
      const res = await fetch(g.gw.url + '/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-waygate-config': JSON.stringify(leaf()) },
        body: JSON.stringify({
          model: 'gpt-test',
          stream,
          messages: [
            { role: 'system', content: system },
            { role: 'user', content: text },
          ],
        }),
      });
      const body = await res.text();
      await g.cache.idle();
      return { status: res.status, cache: res.headers.get('x-waygate-cache-status'), body };
    }

    it('replica B answers from what replica A stored (streams included)', async () => {
      const a = await gateway();
      const b = await gateway();
      fake.vectors.set('Shared question', basis(0));
      fake.vectors.set('The shared question', near(0, 0.95));
      const first = await ask(a, 'Shared question', 'replicas-1', true);
      expect(first.cache).to.equal('SEMANTIC MISS');
      const second = await ask(b, 'The shared question', 'replicas-1', true);
      expect(second.cache).to.equal('SEMANTIC HIT');
      expect(second.body).to.equal(first.body);
      expect((await ask(b, 'Shared question', 'replicas-1')).cache).to.equal('HIT');
      expect(fake.chats).to.equal(1);
    });

    it('Redis going away mid-run: requests still succeed (a logged miss), and hits resume when it is back', async () => {
      const proxy = await TcpProxy.forRedis(REDIS_URL);
      const lines: Array<{ level: string; msg: string; err?: string }> = [];
      const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } as never });
      try {
        const g = await gateway(proxy.urlFor(REDIS_URL), logger);
        const store = g.cache.store as RedisSemanticStore;
        fake.vectors.set('Outage question', basis(1));
        expect((await ask(g, 'Outage question', 'outage')).cache).to.equal('SEMANTIC MISS');
        expect((await ask(g, 'Outage question', 'outage')).cache).to.equal('HIT');
        expect(fake.chats).to.equal(1);

        await proxy.cut();
        await eventually(5_000, () => !store.healthy, 'the store noticing the outage');
        const during = await ask(g, 'Outage question', 'outage');
        expect(during.status).to.equal(200);
        expect(during.cache).to.not.match(/HIT/);
        expect(fake.chats).to.equal(2);
        expect(
          lines.some((l) => l.level === 'warn' && /Redis failed/.test(l.msg)),
          'the outage is logged',
        ).to.equal(true);

        await proxy.resume();
        await eventually(10_000, () => store.healthy, 'the store reconnecting');
        const back = await ask(g, 'Outage question', 'outage');
        expect(back.cache).to.equal('HIT');
        expect(fake.chats).to.equal(2);
      } finally {
        await proxy.close();
      }
    });

    it('starts and serves with Redis unreachable from the start: every lookup a miss', async () => {
      // A port that was just listened on and is closed again: connections to it are refused.
      const proxy = await TcpProxy.start('127.0.0.1', 9);
      const port = proxy.port;
      await proxy.close();
      const g = await gateway(`redis://127.0.0.1:${port}`);
      const a = await ask(g, 'Anyone there?', 'no-redis');
      const b = await ask(g, 'Anyone there?', 'no-redis');
      expect([a.status, b.status]).to.deep.equal([200, 200]);
      expect([a.cache, b.cache]).to.deep.equal(['SEMANTIC MISS', 'SEMANTIC MISS']);
      expect(fake.chats).to.equal(2);
    });
  });
});
