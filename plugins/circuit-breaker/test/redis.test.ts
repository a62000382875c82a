// The Redis store against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): two stores on one
// Redis stand for two gateway replicas. With CI=true a missing Redis fails the suite; elsewhere these
// tests are skipped with a message.
import { expect } from 'chai';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { RedisStore, breakerOptions, redactUrl } from '../src/index.js';
import { TestUpstream } from './upstream.js';
import type { BreakerOptionsInput, MiniLogger, StateChange } from '../src/index.js';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PREFIX = `waygate:test:cb:${process.pid}:${Date.now()}:`;
const SYNC_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; returns the time it took, or fails after `timeoutMs`. */
async function within(timeoutMs: number, check: () => boolean, what: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) expect.fail(`${what}: not seen within ${timeoutMs} ms`);
    await sleep(5);
  }
}

class Logs implements MiniLogger {
  lines: Array<{ level: string; msg: string; obj: object }> = [];
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj });
  }
}

async function redisReachable(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    probe.disconnect();
  }
}

describe('@waygate/circuit-breaker Redis store (shared by replicas)', function () {
  const stores: RedisStore[] = [];
  let admin: Redis | undefined;

  before(async function () {
    const why = await redisReachable(REDIS_URL);
    if (why !== undefined) {
      const message = `no Redis answers at ${redactUrl(REDIS_URL)} (${why})`;
      if (process.env.CI === 'true') throw new Error(`${message}: CI=true requires a Redis for the circuit breaker's shared-state tests`);
      console.warn(`      skipping the Redis circuit-breaker tests: ${message}; start one or set REDIS_URL`);
      this.skip();
    }
    admin = new Redis(REDIS_URL, { lazyConnect: true });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  after(async () => {
    if (!admin) return;
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== '0');
    admin.disconnect();
  });

  /** A replica's store: a fresh connection to the shared Redis. */
  async function replica(opts: BreakerOptionsInput = {}, url = REDIS_URL, logs?: Logs, changes?: StateChange[]): Promise<RedisStore> {
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
    await within(SYNC_MS * 4, () => b.admit(key) === 'deny', 'replica B sees the open circuit');
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
    await within(SYNC_MS * 5, () => a.admit(key) === 'deny', 'replica A sees the open circuit');
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
    await within(SYNC_MS * 5, () => b.admit(key) === 'deny', 'B sees it open');
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
    await within(SYNC_MS * 5, () => b.admit(key) === 'pass', 'B sees it closed');
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
    await within(SYNC_MS * 5, () => b.state(key) === 'open', 'B sees it open again');
    expect(b.admit(key)).to.equal('deny');
  });

  it('an unused probe slot stays with the replica for its next request', async () => {
    const a = await replica({ failureThreshold: 1, cooldownMs: 100 });
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
    await within(SYNC_MS * 8, () => b.admit(key) === 'probe', 'B gets the probe slot');
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
    const target = new URL(REDIS_URL);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    const url = new URL(REDIS_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const logs = new Logs();
    const a = await replica({ failureThreshold: 2, minRequests: 1000 }, url.toString(), logs);
    expect(a.healthy).to.equal(true);
    const key = newKey();
    a.record(key, false);
    await a.idle();

    await proxy.stop();
    await within(2_000, () => !a.healthy, 'A notices Redis is gone');
    expect(logs.lines.some((l) => l.level === 'warn' && /Redis is unavailable/.test(l.msg))).to.equal(true);
    // Decisions go on from this replica's own outcomes: no throw, and the circuit still opens.
    a.record(key, true);
    a.record(key, true);
    await a.idle();
    expect(a.state(key)).to.equal('open');
    expect(a.admit(key)).to.equal('deny');

    await proxy.resume();
    await within(5_000, () => a.healthy, 'A reconnects');
    expect(logs.lines.some((l) => l.level === 'info' && /reachable again/.test(l.msg))).to.equal(true);
    // Back on the shared state, which never saw the outage's failures.
    await within(SYNC_MS * 5, () => a.admit(key) === 'pass', 'A uses the shared state again');
    await proxy.stop();
  });

  it('end to end: two gateways on one Redis; one trips, the other refuses the target within the sync interval', async () => {
    const upstream = await TestUpstream.start();
    const gateways: Gateway[] = [];
    try {
      const plugin = fileURLToPath(new URL('../src/index.js', import.meta.url));
      const options = { store: 'redis', redisUrl: REDIS_URL, keyPrefix: PREFIX, syncIntervalMs: SYNC_MS, failureThreshold: 3, cooldownMs: 60_000 };
      for (let i = 0; i < 2; i++) {
        gateways.push(
          await startGateway({
            config: { defaultPlugins: false, plugins: ['@waygate/provider-openai', { module: plugin, options }] },
            port: 0,
            host: '127.0.0.1',
            logger: createLogger({ level: 'silent' }),
          }),
        );
      }
      const [one, two] = gateways as [Gateway, Gateway];
      const apiKey = `sk-e2e-${PREFIX}`;
      const chat = async (gw: Gateway) => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-waygate-config': JSON.stringify({ provider: 'openai', api_key: apiKey, custom_host: upstream.baseURL }),
          },
          body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      // Gateway two serves the target once (so it polls it), then gateway one sees three failures.
      expect((await chat(two)).status).to.equal(200);
      upstream.status = 503;
      for (let i = 0; i < 3; i++) expect((await chat(one)).status).to.equal(503);
      expect(upstream.calls).to.equal(4);
      await sleep(SYNC_MS * 3);
      const refused = await chat(two);
      expect(refused.status).to.equal(503);
      expect(refused.body.error.code).to.equal('no_available_target');
      expect(upstream.calls).to.equal(4);
    } finally {
      await Promise.all(gateways.map((gw) => gw.close(0)));
      await upstream.close();
    }
  });
});

describe('@waygate/circuit-breaker Redis store without a Redis', function () {
  it('starts, warns once, and decides locally: requests never fail because of Redis', async () => {
    const logs = new Logs();
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
});

/** A TCP proxy to Redis that the test can cut and restore, to play a Redis outage. */
class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  port = 0;

  private constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  static async start(host: string, port: number): Promise<TcpProxy> {
    const p = new TcpProxy(host, port);
    await p.resume();
    return p;
  }

  async resume(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
