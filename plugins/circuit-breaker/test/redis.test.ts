// The Redis store against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): two stores on one
// Redis stand for two gateway replicas. With CI=true a missing Redis fails the suite; elsewhere these
// tests are skipped with a message.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { LogCapture, REDIS_URL, TcpProxy, Upstream, chat, eventually, sleep, useRedis } from '@waygate/core/testing';
import { RedisStore, breakerOptions } from '../src/index.js';
import type { BreakerOptionsInput, StateChange } from '../src/index.js';

const PREFIX = `waygate:test:cb:${process.pid}:${Date.now()}:`;
const SYNC_MS = 100;

describe('@waygate/circuit-breaker Redis store (shared by replicas)', function () {
  const stores: RedisStore[] = [];
  let admin: Redis | undefined;

  useRedis('the Redis circuit-breaker tests', PREFIX);
  before(async () => {
    admin = new Redis(REDIS_URL, { lazyConnect: true });
    await admin.connect();
  });
  afterEach(() => Promise.all(stores.splice(0).map((s) => s.close())));
  after(() => admin?.disconnect());

  /** A replica's store: a fresh connection to the shared Redis. */
  async function replica(opts: BreakerOptionsInput = {}, url = REDIS_URL, logs?: LogCapture, changes?: StateChange[]): Promise<RedisStore> {
    const s = new RedisStore(breakerOptions({ store: 'redis', keyPrefix: PREFIX, syncIntervalMs: SYNC_MS, ...opts }), url, {
      logger: logs,
      onChange: changes ? (c) => changes.push(c) : undefined,
    });
    stores.push(s);
    await s.ready();
    return s;
  }

  let n = 0;
  const newKey = () => `openai|http://127.0.0.1:9/v1|key${++n}`;

  it('one replica trips; the other sees the circuit open within the sync interval', async () => {
    const a = await replica({ failureThreshold: 3 });
    const changes: StateChange[] = [];
    const b = await replica({ failureThreshold: 3 }, REDIS_URL, undefined, changes);
    expect(a.healthy && b.healthy).to.equal(true);
    const key = newKey();
    expect(b.admit(key)).to.equal('pass');
    for (let i = 0; i < 3; i++) a.record(key, true);
    await a.idle();
    expect(a.state(key)).to.equal('open');
    expect(a.admit(key)).to.equal('deny');
    // The next poll (every SYNC_MS) sees it; the margin is for a loaded CI machine.
    await eventually(SYNC_MS * 4, () => b.admit(key) === 'deny', 'replica B sees the open circuit');
    expect(b.state(key)).to.equal('open');
    expect(changes).to.deep.include({ key, from: 'closed', to: 'open', reason: 'seen in the shared state', shared: true });
  });

  it('counts consecutive failures across replicas', async () => {
    const a = await replica({ failureThreshold: 5, minRequests: 1000 });
    const b = await replica({ failureThreshold: 5, minRequests: 1000 });
    const key = newKey();
    a.record(key, true);
    a.record(key, true);
    await a.idle();
    b.record(key, true);
    b.record(key, true);
    await b.idle();
    expect(a.state(key)).to.equal('closed');
    a.record(key, true);
    await a.idle();
    expect(a.state(key)).to.equal('open');
    // A success on either replica resets the shared count.
    const other = newKey();
    for (let i = 0; i < 4; i++) a.record(other, true);
    await a.idle();
    b.record(other, false);
    await b.idle();
    a.record(other, true);
    await a.idle();
    expect(a.state(other)).to.equal('closed');
  });

  it('measures the error ratio over both replicas’ requests', async () => {
    const opts = { failureThreshold: 100, errorRatio: 0.5, minRequests: 10 };
    const a = await replica(opts);
    const b = await replica(opts);
    const key = newKey();
    for (let i = 0; i < 5; i++) a.record(key, false);
    await a.idle();
    for (let i = 0; i < 4; i++) b.record(key, true);
    await b.idle();
    expect(b.state(key)).to.equal('closed');
    // 10 requests, 5 failed: 0.5 ≥ errorRatio, though B alone saw only failures below minRequests.
    b.record(key, true);
    await b.idle();
    expect(b.state(key)).to.equal('open');
    await eventually(SYNC_MS * 5, () => a.admit(key) === 'deny', 'replica A sees the open circuit');
  });

  it('half-open: one probe across replicas; its success closes the circuit everywhere', async () => {
    const opts = { failureThreshold: 2, cooldownMs: 300, halfOpenProbes: 1 };
    const a = await replica(opts);
    const b = await replica(opts);
    const key = newKey();
    expect(b.admit(key)).to.equal('pass');
    a.record(key, true);
    a.record(key, true);
    await a.idle();
    await eventually(SYNC_MS * 5, () => b.admit(key) === 'deny', 'B sees it open');
    await sleep(320);
    // A asks first: it claims the only probe slot in Redis (the asking request itself is refused).
    expect(a.admit(key)).to.equal('deny');
    await a.idle();
    expect(a.admit(key)).to.equal('probe');
    // B finds the slot taken.
    expect(b.admit(key)).to.equal('deny');
    await b.idle();
    expect(b.admit(key)).to.equal('deny');
    expect(b.state(key)).to.equal('half-open');
    // The probe succeeds: closed for A at once, for B within the sync interval.
    a.record(key, false);
    await a.idle();
    expect(a.state(key)).to.equal('closed');
    expect(a.admit(key)).to.equal('pass');
    await eventually(SYNC_MS * 5, () => b.admit(key) === 'pass', 'B sees it closed');
  });

  it('half-open: a failed probe re-opens the circuit for another cooldown', async () => {
    const opts = { failureThreshold: 1, cooldownMs: 200 };
    const a = await replica(opts);
    const b = await replica(opts);
    const key = newKey();
    expect(b.admit(key)).to.equal('pass');
    a.record(key, true);
    await a.idle();
    await sleep(220);
    a.admit(key);
    await a.idle();
    expect(a.admit(key)).to.equal('probe');
    a.record(key, true);
    await a.idle();
    expect(a.state(key)).to.equal('open');
    await eventually(SYNC_MS * 5, () => b.state(key) === 'open', 'B sees it open again');
    expect(b.admit(key)).to.equal('deny');
  });

  it('an unused probe slot stays with the replica for its next request', async () => {
    // No sync runs during the test: a sync a full interval after the claim gives an unused slot back
    // (the next test), which a loaded machine could otherwise fit between the claim and the request.
    const a = await replica({ failureThreshold: 1, cooldownMs: 100, syncIntervalMs: 60_000 });
    const key = newKey();
    a.record(key, true);
    await a.idle();
    await sleep(120);
    a.admit(key);
    await a.idle();
    expect(a.admit(key)).to.equal('probe');
    expect(a.admit(key)).to.equal('deny');
    a.release(key);
    expect(a.admit(key)).to.equal('probe');
  });

  it('a slot claimed for traffic that did not come is given back, so another replica can probe', async () => {
    const opts = { failureThreshold: 1, cooldownMs: 100 };
    const a = await replica(opts);
    const b = await replica(opts);
    const key = newKey();
    expect(b.admit(key)).to.equal('pass');
    a.record(key, true);
    await a.idle();
    await sleep(120);
    // A claims the only slot for its next request, which never comes.
    expect(a.admit(key)).to.equal('deny');
    await a.idle();
    expect(b.admit(key)).to.equal('deny');
    await b.idle();
    expect(b.admit(key)).to.equal('deny');
    // A's next poll gives it back; B's next claim gets it.
    await eventually(SYNC_MS * 8, () => b.admit(key) === 'probe', 'B gets the probe slot');
    b.record(key, false);
    await b.idle();
    expect(b.state(key)).to.equal('closed');
  });

  it('uses one hash-tagged key set per target under the prefix, with expiries', async () => {
    const a = await replica({ failureThreshold: 1, cooldownMs: 5_000 });
    const key = newKey();
    a.record(key, true);
    await a.idle();
    const base = `${PREFIX}{${key}}`;
    const pttl = await admin!.pttl(`${base}:open`);
    expect(pttl).to.be.within(1, 5_000);
    expect(await admin!.pttl(`${base}:tripped`)).to.be.above(5_000);
  });

  it('falls back to local decisions while Redis is away, and shares again when it is back', async () => {
    const proxy = await TcpProxy.forRedis(REDIS_URL);
    try {
      const logs = new LogCapture();
      const a = await replica({ failureThreshold: 2, minRequests: 1000 }, proxy.urlFor(REDIS_URL), logs);
      expect(a.healthy).to.equal(true);
      const key = newKey();
      a.record(key, false);
      await a.idle();

      await proxy.cut();
      await eventually(2_000, () => !a.healthy, 'A notices Redis is gone');
      expect(logs.warnings().some((msg) => /Redis is unavailable/.test(msg))).to.equal(true);
      // Decisions go on from this replica's own outcomes: no throw, and the circuit still opens.
      a.record(key, true);
      a.record(key, true);
      await a.idle();
      expect(a.state(key)).to.equal('open');
      expect(a.admit(key)).to.equal('deny');

      await proxy.resume();
      await eventually(5_000, () => a.healthy, 'A reconnects');
      expect(logs.lines.some((l) => l.level === 'info' && /reachable again/.test(l.msg))).to.equal(true);
      // Back on the shared state, which never saw the outage's failures.
      await eventually(SYNC_MS * 5, () => a.admit(key) === 'pass', 'A uses the shared state again');
    } finally {
      await proxy.close();
    }
  });

  it('end to end: two gateways on one Redis; one trips, the other refuses the target within the sync interval', async () => {
    const upstream = await Upstream.start();
    const gateways: Gateway[] = [];
    try {
      const plugin = fileURLToPath(new URL('../src/index.js', import.meta.url));
      const options = { store: 'redis', redisUrl: REDIS_URL, keyPrefix: PREFIX, syncIntervalMs: SYNC_MS, failureThreshold: 3, cooldownMs: 60_000 };
      for (let i = 0; i < 2; i++) {
        gateways.push(
          await startGateway({
            config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: plugin, options }] },
            port: 0,
            host: '127.0.0.1',
            logger: createLogger({ level: 'silent' }),
          }),
        );
      }
      const [one, two] = gateways as [Gateway, Gateway];
      const leaf = upstream.leaf('up', { api_key: `sk-e2e-${PREFIX}` });
      // Gateway two serves the target once (so it polls it), then gateway one sees three failures.
      expect((await chat(two.url, leaf)).status).to.equal(200);
      upstream.status.up = 503;
      for (let i = 0; i < 3; i++) expect((await chat(one.url, leaf)).status).to.equal(503);
      expect(upstream.hits).to.have.length(4);
      await sleep(SYNC_MS * 3);
      const refused = await chat(two.url, leaf);
      expect(refused.status).to.equal(503);
      expect(refused.json.error.code).to.equal('no_available_target');
      expect(upstream.hits).to.have.length(4);
    } finally {
      await Promise.all(gateways.map((gw) => gw.close(0)));
      await upstream.close();
    }
  });
});

describe('@waygate/circuit-breaker Redis store without a Redis', function () {
  it('starts, warns once, and decides locally: requests never fail because of Redis', async () => {
    const logs = new LogCapture();
    const s = new RedisStore(breakerOptions({ store: 'redis', failureThreshold: 2 }), 'redis://:secret@127.0.0.1:1', { logger: logs });
    try {
      expect(await s.ready()).to.equal(false);
      expect(s.healthy).to.equal(false);
      expect(s.admit('k')).to.equal('pass');
      s.record('k', true);
      s.record('k', true);
      await s.idle();
      expect(s.state('k')).to.equal('open');
      expect(s.admit('k')).to.equal('deny');
      await sleep(300);
      const warnings = logs.lines.filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(JSON.stringify(warnings[0]!.obj)).to.not.include('secret');
    } finally {
      await s.close();
    }
  });

  it('does not wait for a Redis that accepts connections and never answers: ready() settles false, decisions are local', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((c) => void sockets.add(c.on('data', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const logs = new LogCapture();
    const url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const s = new RedisStore(breakerOptions({ store: 'redis', failureThreshold: 1, redisCommandTimeoutMs: 200 }), url, { logger: logs });
    try {
      expect(await s.ready()).to.equal(false);
      expect(sockets.size, 'the store did connect').to.be.greaterThan(0);
      expect(s.healthy).to.equal(false);
      s.record('k', true);
      expect(s.admit('k')).to.equal('deny');
      expect(logs.lines.some((l) => l.level === 'warn' && /Redis is unavailable/.test(l.msg))).to.equal(true);
    } finally {
      await s.close();
      for (const c of sockets) c.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
