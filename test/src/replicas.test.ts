// Two gateway processes (the real CLI, twice) behind no load balancer but sharing what replicas share:
// PostgreSQL for keys and the request log, Redis for the circuit breaker, the cache and the key
// fan-out. A circuit opened by one is open for the other; an answer cached by one is a hit on the
// other; a key revoked on one is refused by the other; both request logs land in one store.
import { expect } from 'chai';
import { REDIS_URL, RespClient, eventually, useRedis } from '@waygate/core/testing';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '@waygate/auth/testing';
import { FakeUpstream } from './fakes/provider-upstreams.js';
import type { Received, Reply } from './fakes/provider-upstreams.js';
import { killAllClis, spawnCli } from './helpers/proc-cli.js';
import { tempDir, writeConfig } from './helpers/proc-util.js';
import { adminCall } from './helpers/auth-support.js';

const ADMIN = 'wg-admin-replicas-0123456789abcdef';
const RUN = `${process.pid}-${Date.now()}`;

/** OpenAI's chat answer, naming the model. */
const answer = (req: Received): Reply => ({
  json: {
    id: 'chatcmpl-replica',
    object: 'chat.completion',
    created: 1,
    model: req.body?.model,
    choices: [{ index: 0, message: { role: 'assistant', content: `hello from ${req.body?.model}` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  },
});
/** An upstream that is down: OpenAI's 500 error body. */
const down = (): Reply => ({ status: 500, json: { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } } });

/** How many keys Redis holds under `prefix`. */
async function cacheEntries(prefix: string): Promise<number> {
  const client = await RespClient.connect(REDIS_URL, 5000);
  try {
    let [cursor, count] = ['0', 0];
    do {
      const [next, keys] = (await client.command('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]];
      [cursor, count] = [next, count + keys.length];
    } while (cursor !== '0');
    return count;
  } finally {
    client.close();
  }
}

describe('two replicas sharing PostgreSQL and Redis', function () {
  this.timeout(60_000);
  useRedis('the replica tests', `waygate:test:replicas:${RUN}:`);
  const schema = runSchema('replicas_e2e');
  let ok: FakeUpstream;
  let failing: FakeUpstream;
  let dir: { dir: string; cleanup: () => Promise<void> };
  let ran = false;
  let a: string;
  let b: string;

  before(async function () {
    await requirePostgres(this, 'the replica tests');
    ran = true;
    [ok, failing] = await Promise.all([FakeUpstream.start(answer), FakeUpstream.start(down)]);
    dir = await tempDir('waygate-replicas-');
    const prefix = `waygate:test:replicas:${RUN}:`;
    const config = await writeConfig(dir.dir, {
      providers: {
        openai: { api_key: 'sk-held-openai', base_url: `${ok.url}/v1` },
        deepseek: { api_key: 'sk-held-deepseek', base_url: `${failing.url}/v1` },
      },
      routing: { provider: 'openai', override_params: { model: 'gpt-4o-mini' }, cache: { mode: 'simple' } },
      plugins: [
        {
          module: '@waygate/auth',
          options: { adminKey: ADMIN, store: { type: 'postgres', url: DATABASE_URL, schema }, redis: { url: REDIS_URL, channel: `${prefix}keys` } },
        },
        {
          module: '@waygate/circuit-breaker',
          options: { store: 'redis', redisUrl: REDIS_URL, keyPrefix: `${prefix}cb:`, failureThreshold: 2, syncIntervalMs: 100 },
        },
        { module: '@waygate/cache-redis', options: { url: REDIS_URL, keyPrefix: `${prefix}cache:` } },
        { module: '@waygate/request-log', options: { batch: { flushMs: 50 } } },
      ],
    });
    const [pa, pb] = [spawnCli(['--config', config, '--port', '0']), spawnCli(['--config', config, '--port', '0'])];
    [a, b] = [(await pa.ready()).url, (await pb.ready()).url];
  });
  after(async () => {
    await killAllClis();
    await Promise.all([ok?.close(), failing?.close()]);
    await dir?.cleanup();
    if (ran) await dropSchema(schema);
  });

  const admin = (url: string, method: string, route: string, body?: unknown) => adminCall(url, ADMIN, method, route, body);
  const chat = (url: string, key: string, content: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
    }).then(async (r) => ({ status: r.status, headers: r.headers, json: (await r.json()) as any }));

  let key: { id: string; key: string };

  it('a key made on one is accepted by the other', async () => {
    const made = await admin(a, 'POST', '/admin/keys', { name: 'shared' });
    expect(made.status).to.equal(201);
    key = made.json;
    expect((await chat(b, key.key, 'first')).status).to.equal(200);
  });

  it('an answer cached by one is a hit on the other, with no second upstream call', async () => {
    const calls = () => ok.requests.filter((r) => r.pathname === '/v1/chat/completions').length;
    const before = calls();
    const entries = () => cacheEntries(`waygate:test:replicas:${RUN}:cache:`);
    const stored = await entries();
    const first = await chat(a, key.key, 'cache me across replicas');
    expect(first.headers.get('x-waygate-cache-status')).to.equal('MISS');
    // The store write follows the answer: ask the other replica once it has landed (asking before
    // would be a miss that calls the upstream itself).
    await eventually(3000, async () => (await entries()) > stored, 'a’s cache write in Redis');
    const second = await chat(b, key.key, 'cache me across replicas');
    expect(second.headers.get('x-waygate-cache-status')).to.equal('HIT');
    expect(second.json.choices[0].message.content).to.equal(first.json.choices[0].message.content);
    expect(calls()).to.equal(before + 1);
  });

  it('a circuit opened by one is open for the other: it answers 503 without calling the upstream', async () => {
    const flaky = { 'x-waygate-config': JSON.stringify({ provider: 'deepseek', override_params: { model: 'deepseek-chat' } }) };
    for (let i = 0; i < 2; i++) expect((await chat(a, key.key, `fail ${i}`, flaky)).status).to.be.within(500, 599);
    const calls = failing.requests.length;
    expect(calls).to.equal(2);
    let refused!: Awaited<ReturnType<typeof chat>>;
    await eventually(
      3000,
      async () => (refused = await chat(b, key.key, 'after the circuit opened', flaky)).status === 503,
      'b skipping the open circuit',
    );
    expect(refused.json.error.code).to.equal('no_available_target');
    // Only b's attempts before it heard of the open circuit reached the upstream, if any.
    const afterOpen = failing.requests.length;
    expect((await chat(b, key.key, 'once more', flaky)).status).to.equal(503);
    expect(failing.requests.length).to.equal(afterOpen);
  });

  it('both request logs land in one store: each replica’s admin API shows the other’s requests', async () => {
    const onA = await chat(a, key.key, 'logged on a');
    const onB = await chat(b, key.key, 'logged on b');
    const [idA, idB] = [onA.headers.get('x-waygate-request-id')!, onB.headers.get('x-waygate-request-id')!];
    // Each replica writes its rows in batches just after its answers: the other's appear once written.
    await eventually(5000, async () => (await admin(a, 'GET', `/admin/logs/${idB}`)).status === 200, 'b’s request in a’s log');
    await eventually(5000, async () => (await admin(b, 'GET', `/admin/logs/${idA}`)).status === 200, 'a’s request in b’s log');
    const row = (await admin(a, 'GET', `/admin/logs/${idB}`)).json;
    expect(row).to.include({ id: idB, key_id: key.id, provider: 'openai', status: 200 });
    const listed = (await admin(b, 'GET', `/admin/logs?key=${key.id}&limit=500`)).json.data as Array<{ id: string }>;
    expect(listed.map((r) => r.id)).to.include.members([idA, idB]);
  });

  it('a key revoked on one is refused by the other at once', async () => {
    expect((await admin(a, 'DELETE', `/admin/keys/${key.id}`)).status).to.equal(200);
    const refused = await chat(b, key.key, 'after revocation');
    expect(refused.status).to.equal(401);
    expect(refused.json.error.code).to.equal('key_revoked');
  });
});
