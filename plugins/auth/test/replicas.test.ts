// Two gateways sharing one PostgreSQL store (and, for the cached mode, one Redis for the fan-out): a
// key made on one is accepted by the other, and a key revoked on one is refused by the other.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { REDIS_URL, TcpProxy, eventually, silent, useRedis } from '@waygate/core/testing';
import { DATABASE_URL, Recorder, dropSchema, requirePostgres, runSchema } from './support.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const ADMIN = 'admin-key-for-the-replica-tests-0123';
const MSG = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

let up: Recorder;
const schema = runSchema('replicas');
let ran = false;
const savedAdmin = process.env.WAYGATE_ADMIN_KEY;

before(async function () {
  await requirePostgres(this, 'the replica tests');
  ran = true;
  delete process.env.WAYGATE_ADMIN_KEY;
  up = await Recorder.start();
});
after(async () => {
  if (savedAdmin !== undefined) process.env.WAYGATE_ADMIN_KEY = savedAdmin;
  await up?.close();
  if (ran) await dropSchema(schema);
});

function replica(options: Record<string, unknown>): Promise<Gateway> {
  return startGateway({
    config: {
      defaultPlugins: false,
      plugins: ['@waygate/openai-api', '@waygate/provider-openai', { module: THIS_PACKAGE, options: { adminKey: ADMIN, ...options } }],
      providers: { openai: { api_key: 'sk-server', base_url: `${up.url}/server/v1` } },
      routing: { provider: 'openai' },
    },
    port: 0,
    host: '127.0.0.1',
    logger: silent,
  });
}

const chat = async (gw: Gateway, key: string) =>
  (
    await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(MSG),
    })
  ).status;

async function admin(gw: Gateway, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(gw.url + route, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

describe('@waygate/auth replicas over one PostgreSQL, no cache', () => {
  let a: Gateway;
  let b: Gateway;
  before(async () => {
    const store = { type: 'postgres', url: DATABASE_URL, schema };
    [a, b] = await Promise.all([replica({ store }), replica({ store })]);
  });
  after(async () => {
    await a?.close(0);
    await b?.close(0);
  });

  it('a key made on one replica is accepted by the other, and a key revoked on one is refused by the other at once', async () => {
    const k = await admin(a, 'POST', '/admin/keys', { name: 'shared' });
    expect(await chat(b, k.key)).to.equal(200);
    expect(await chat(a, k.key)).to.equal(200);
    await admin(a, 'DELETE', `/admin/keys/${k.id}`);
    // No wait: B asks the store on every request.
    expect(await chat(b, k.key)).to.equal(401);
    expect(await chat(a, k.key)).to.equal(401);
  });

  it('a change made on one replica (a team’s models) applies on the other at once', async () => {
    await admin(a, 'POST', '/admin/teams', { id: 'rep-team', name: 'rep', models: ['gpt-4o*'] });
    const k = await admin(a, 'POST', '/admin/keys', { name: 'in-team', team: 'rep-team' });
    expect(await chat(b, k.key)).to.equal(200);
    await admin(a, 'PATCH', '/admin/teams/rep-team', { models: ['claude*'] });
    expect(await chat(b, k.key)).to.equal(403);
  });
});

describe('@waygate/auth replicas with a cache and the Redis fan-out', () => {
  useRedis('the revocation fan-out tests');
  const channel = `waygate:test:auth:${process.pid}:${Date.now()}`;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let a: Gateway;
  let b: Gateway;

  before(async () => {
    const u = new URL(DATABASE_URL);
    pgProxy = await TcpProxy.start(u.hostname, Number(u.port || 5432));
    u.hostname = '127.0.0.1';
    u.port = String(pgProxy.port);
    redisProxy = await TcpProxy.forRedis();
    // A long TTL: only the fan-out can explain B refusing a revoked key soon after. The store's
    // timeout leaves room for a new connection through the proxy on a machine busy with other
    // suites (at 300 ms, B's first lookup after a cut answered 503 under CI's load).
    const common = { cacheTtlMs: 600_000, store: { type: 'postgres', schema, timeoutMs: 1500 } };
    a = await replica({ ...common, store: { ...common.store, url: DATABASE_URL }, redis: { url: REDIS_URL, channel } });
    b = await replica({ ...common, store: { ...common.store, url: u.href }, redis: { url: redisProxy.urlFor(), channel } });
  });
  after(async () => {
    await a?.close(0);
    await b?.close(0);
    await pgProxy?.close();
    await redisProxy?.close();
  });

  it('serves a key from the cache (the store may be away), and refuses it once revoked elsewhere, well before the TTL', async () => {
    const k = await admin(a, 'POST', '/admin/keys', { name: 'cached' });
    expect(await chat(b, k.key)).to.equal(200);
    await pgProxy.cut();
    // B's store is unreachable: only its cache can answer.
    expect(await chat(b, k.key)).to.equal(200);
    await pgProxy.resume();
    await admin(a, 'DELETE', `/admin/keys/${k.id}`);
    await eventually(5000, async () => (await chat(b, k.key)) === 401, 'B refusing the key revoked on A');
  });

  it('stops trusting its cache while the fan-out is down, and trusts it again once it is back', async () => {
    const k = await admin(a, 'POST', '/admin/keys', { name: 'channel' });
    expect(await chat(b, k.key)).to.equal(200);
    await redisProxy.cut();
    await pgProxy.cut();
    // No channel, no cache: B must ask its store, which is away.
    await eventually(5000, async () => (await chat(b, k.key)) === 503, 'B refusing to answer from an untrusted cache');
    await redisProxy.resume();
    // Once the channel is back (its first message may have been missed: the cache starts empty), a
    // lookup made with the store up is served from the cache while the store is away.
    await eventually(
      10_000,
      async () => {
        await pgProxy.resume();
        const filled = (await chat(b, k.key)) === 200;
        await pgProxy.cut();
        return filled && (await chat(b, k.key)) === 200;
      },
      'B trusting its cache again once the channel is back',
    );
    await pgProxy.resume();
  });
});
