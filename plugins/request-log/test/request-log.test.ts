// The request log end to end, the same suite over SQLite and PostgreSQL: the official `openai` client
// with virtual keys against the gateway (the bundled plugins, this one included by name) in front of a
// loopback OpenAI upstream that reports usage; GET /admin/logs with its filters and paging, retention,
// a store that stops answering (requests go on, the rows arrive later), and callers without the admin key.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { TcpProxy, eventually, silent } from '@waygate/core/testing';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '@waygate/store/testing';
import { SqliteDatabase } from '@waygate/store';
import plugin, { LogStore, MIGRATIONS, OptionsSchema } from '../src/index.js';
import { isoTime } from '../src/record.js';
import type { LogEntry } from '../src/index.js';

const ADMIN = 'the-request-log-admin-key-0123456789';
/** $1 per input token, $0.5 per cached one, $2 per output token: a request of the upstream below costs 8 + 2 + 10 = $20. */
const PRICES = { 'logged-*': { input_per_mtok: 1_000_000, cached_input_per_mtok: 500_000, output_per_mtok: 2_000_000 } };
const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 } };

/** An OpenAI upstream on loopback: chat completions with usage, streamed (usage in the last chunk when asked) or not; models `fail-*` get a 500. */
class Upstream {
  server!: http.Server;
  url = '';
  static async start(): Promise<Upstream> {
    const u = new Upstream();
    u.server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
        const head = { id: 'chatcmpl-log', created: 1, model: body.model };
        if (String(body.model).startsWith('fail-')) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'upstream broke', type: 'server_error' } }));
          return;
        }
        const text = 'Write to alice@example.com now';
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              ...head,
              object: 'chat.completion',
              choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
              usage: USAGE,
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (extra: object) => `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', ...extra })}\n\n`;
        const events = [
          chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
          ...text.split(/(?<= )/).map((w) => chunk({ choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
          chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
          ...(body.stream_options?.include_usage ? [chunk({ choices: [], usage: USAGE })] : []),
          'data: [DONE]\n\n',
        ];
        for (const e of events) res.write(e);
        res.end();
      });
    });
    await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', () => r()));
    u.url = `http://127.0.0.1:${(u.server.address() as AddressInfo).port}/v1`;
    return u;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function call(gw: Gateway, key: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(gw.url + route, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const admin = (gw: Gateway, method: string, route: string, body?: unknown) => call(gw, ADMIN, method, route, body);
const hi = [{ role: 'user' as const, content: 'my mail is bob@example.org' }];

interface Backend {
  name: string;
  /** Before the suite: skip or fail when the database is missing. */
  require(suite: Mocha.Context): Promise<void>;
  /** A store block for a fresh database. */
  store(): Record<string, unknown>;
  cleanup(): Promise<void>;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-request-log-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const schemas: string[] = [];

const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    require: async () => undefined,
    store: () => ({ type: 'sqlite', path: path.join(tmp, `log-${++files}.sqlite`) }),
    cleanup: async () => undefined,
  },
  {
    name: 'PostgreSQL',
    require: (suite) => requirePostgres(suite, 'the request log on PostgreSQL'),
    store: () => {
      const schema = runSchema('reqlog');
      schemas.push(schema);
      return { type: 'postgres', url: DATABASE_URL, schema };
    },
    cleanup: async () => {
      for (const s of schemas.splice(0)) await dropSchema(s);
    },
  },
];

let upstream: Upstream;
before(async () => {
  upstream = await Upstream.start();
});
after(() => upstream?.close());

const saved = process.env.WAYGATE_ADMIN_KEY;
before(() => delete process.env.WAYGATE_ADMIN_KEY);
after(() => {
  if (saved !== undefined) process.env.WAYGATE_ADMIN_KEY = saved;
});

/** The gateway with the bundled plugins, auth (admin key, prices, a store) and this plugin's options. */
function gateway(store: Record<string, unknown>, log: Record<string, unknown> = {}): Promise<Gateway> {
  return startGateway({
    config: {
      plugins: [
        { module: '@waygate/auth', options: { adminKey: ADMIN, store, prices: PRICES } },
        { module: '@waygate/request-log', options: { batch: { flushMs: 5, retryMs: 20 }, ...log } },
      ],
      providers: { openai: { api_key: 'sk-upstream-held', base_url: upstream.url } },
      routing: { provider: 'openai' },
    },
    port: 0,
    host: '127.0.0.1',
    logger: silent,
  });
}

describe('@waygate/request-log', () => {
  it('has a manifest with its package name and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/request-log', kind: 'observability', core: '^1.0.0' });
  });

  it('defaults to auto (on with an admin key), metadata only, 30 days and a million rows', () => {
    const o = OptionsSchema.parse({});
    expect(o.enabled).to.equal('auto');
    expect(o.bodies.enabled).to.equal(false);
    expect(o.retention).to.include({ maxAgeDays: 30, maxRows: 1_000_000 });
  });

  it('refuses bad options, naming the field', () => {
    for (const [options, field] of [
      [{ enabled: 'yes' }, 'enabled'],
      [{ retention: { maxRows: -1 } }, 'retention'],
      [{ bodies: { categories: ['nope'] } }, 'bodies'],
      [{ batch: { batchSize: 0 } }, 'batch'],
      [{ other: 1 }, ''],
    ] as const) {
      const r = OptionsSchema.safeParse(options);
      expect(r.success, JSON.stringify(options)).to.equal(false);
      if (field) expect(r.error!.issues[0]!.path[0]).to.equal(field);
    }
  });

  it('is off without an admin key in auto mode: no table is made, and /admin is not served', async () => {
    const file = path.join(tmp, 'off.sqlite');
    const gw = await startGateway({
      config: {
        plugins: [{ module: '@waygate/request-log', options: { store: { type: 'sqlite', path: file } } }],
        providers: { openai: { api_key: 'sk-upstream-held', base_url: upstream.url } },
        routing: { provider: 'openai' },
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    try {
      const r = await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'none', maxRetries: 0 }).chat.completions.create({ model: 'logged-a', messages: hi });
      expect(r.choices[0]!.message.content).to.be.a('string');
      expect(fs.existsSync(file)).to.equal(false);
      expect((await fetch(`${gw.url}/admin/logs`)).status).to.equal(404);
    } finally {
      await gw.close(0);
    }
  });

  describe('LogStore rows', () => {
    it('keeps every column of an entry in its place, in batches of every size', async () => {
      const db = await SqliteDatabase.open(':memory:');
      await db.migrate('request-log', MIGRATIONS);
      const store = new LogStore(db, { batchSize: 500, flushMs: 1, maxQueued: 1000, retryMs: 10 }, silent);
      // No two columns alike, none null: a value written to another column shows.
      const full = (i: number): LogEntry => ({
        id: `full-${String(i).padStart(3, '0')}`,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(),
        key_id: `key-${i}`,
        key_name: `name-${i}`,
        team: `team-${i}`,
        endpoint: 'embeddings',
        method: 'PUT',
        path: `/v1/path/${i}`,
        provider: `provider-${i}`,
        model: `model-${i}`,
        target_path: `targets.${i}`,
        status: 200 + i,
        outcome: 'fell_back',
        stream: i % 2 === 0,
        input_tokens: 1000 + i,
        output_tokens: 2000 + i,
        cached_tokens: 3000 + i,
        cost_usd: 0.25 + i,
        total_ms: 10.5 + i,
        upstream_ms: 5.25 + i,
        ttft_ms: 1.125 + i,
        retries: i,
        cache: `cache-${i}`,
        guardrails: `guard-${i}`,
        error: `error-${i}`,
        detail: { attempts: [{ target: `t${i}`, provider: 'p', status: 500, ms: 1.5 }], keyMetadata: { env: 'prod' } },
        request_body: { model: `model-${i}`, messages: [{ role: 'user', content: `hi ${i}` }] },
        response_body: { stream: true, text: `answer ${i}` },
      });
      const entries = Array.from({ length: 40 }, (_, i) => full(i));
      for (let i = 0, n = 1; i < entries.length; i += n, n++) {
        for (const e of entries.slice(i, i + n)) store.push(e);
        await store.drain();
      }
      const got = await store.list({ limit: 100 });
      expect(got).to.deep.equal([...entries].reverse());
      await db.close();
    });

    it('writes the time of a request as toISOString does', () => {
      const times = [
        0, 999, 1000, 1_780_000_000_000, 1_780_000_000_001, 1_780_000_000_010, 1_780_000_000_099, 1_780_000_000_100, 1_780_000_000_999, 1_780_000_001_000,
      ];
      for (const t of [...times, ...times.reverse(), -1, -1001, 253_402_300_799_999, 253_402_300_800_000, 1.5, 1_780_000_000_000.25])
        expect(isoTime(t), String(t)).to.equal(new Date(t).toISOString());
    });
  });

  describe('LogStore retention by age', () => {
    it('deletes the rows older than the limit and keeps the others', async () => {
      const db = await SqliteDatabase.open(':memory:');
      await db.migrate('request-log', MIGRATIONS);
      const store = new LogStore(db, { batchSize: 10, flushMs: 1, maxQueued: 100, retryMs: 10 }, silent);
      const now = Date.parse('2026-06-01T00:00:00Z');
      const row = (id: string, daysAgo: number): LogEntry =>
        ({ ...sample, id, at: new Date(now - daysAgo * 86_400_000).toISOString() }) satisfies LogEntry;
      for (const [id, d] of [
        ['old1', 40],
        ['old2', 31],
        ['new1', 29],
        ['new2', 1],
      ] as const)
        store.push(row(id, d));
      await store.drain();
      expect(await store.prune({ maxAgeMs: 30 * 86_400_000 }, now)).to.equal(2);
      expect((await store.list({ limit: 10 })).map((e) => e.id)).to.deep.equal(['new2', 'new1']);
      await db.close();
    });
  });

  for (const backend of BACKENDS) {
    describe(`on ${backend.name}`, function () {
      let gw: Gateway;
      let keyA: { id: string; key: string };
      let keyB: { id: string; key: string };
      const openai = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });

      before(async function () {
        await backend.require(this);
        gw = await gateway(backend.store(), { bodies: { enabled: true } });
        expect((await admin(gw, 'POST', '/admin/teams', { id: 'team-red', name: 'Red' })).status).to.equal(201);
        keyA = (await admin(gw, 'POST', '/admin/keys', { name: 'alpha' })).json;
        keyB = (await admin(gw, 'POST', '/admin/keys', { name: 'beta', team: 'team-red' })).json;
      });
      after(async () => {
        await gw?.close(0);
        await backend.cleanup();
      });

      it('logs a JSON request with its key, team, route, status, tokens, cost and latency, and redacted bodies', async () => {
        const { data, response } = await openai(keyB.key).chat.completions.create({ model: 'logged-json', messages: hi }).withResponse();
        expect(data.usage?.prompt_tokens).to.equal(12);
        expect(response.headers.get('x-waygate-cost')).to.equal('20');
        const id = response.headers.get('x-waygate-request-id')!;
        const r = await admin(gw, 'GET', `/admin/logs/${id}`);
        expect(r.status, JSON.stringify(r.json)).to.equal(200);
        const e = r.json as LogEntry;
        expect(e).to.include({
          id,
          key_id: keyB.id,
          key_name: 'beta',
          team: 'team-red',
          endpoint: 'chat.completions',
          method: 'POST',
          path: '/v1/chat/completions',
          provider: 'openai',
          model: 'logged-json',
          target_path: 'config',
          status: 200,
          outcome: 'success',
          stream: false,
          input_tokens: 12,
          output_tokens: 5,
          cached_tokens: 4,
          cost_usd: 20,
          ttft_ms: null,
          retries: 0,
          error: null,
        });
        expect(e.total_ms).to.be.greaterThan(0);
        expect(e.upstream_ms).to.be.greaterThan(0).and.at.most(e.total_ms);
        expect(Date.parse(e.at)).to.be.at.most(Date.now());
        // Bodies (opted in here) keep their shape, their personal data masked.
        expect(JSON.stringify(e.request_body)).to.include('[REDACTED_EMAIL]').and.not.include('bob@example.org');
        expect((e.request_body as { model: string }).model).to.equal('logged-json');
        expect(JSON.stringify(e.response_body)).to.include('[REDACTED_EMAIL]').and.not.include('alice@example.com');
      });

      it('logs a streamed request when the stream ends, with the usage it reported, its cost and time to first token', async () => {
        const { data: stream, response } = await openai(keyA.key)
          .chat.completions.create({ model: 'logged-stream', messages: hi, stream: true, stream_options: { include_usage: true } })
          .withResponse();
        let text = '';
        for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
        expect(text).to.equal('Write to alice@example.com now');
        const id = response.headers.get('x-waygate-request-id')!;
        const e = (await admin(gw, 'GET', `/admin/logs/${id}`)).json as LogEntry;
        expect(e).to.include({
          key_id: keyA.id,
          team: null,
          stream: true,
          status: 200,
          input_tokens: 12,
          output_tokens: 5,
          cached_tokens: 4,
          cost_usd: 20,
        });
        expect(e.ttft_ms).to.be.a('number').greaterThan(0).and.at.most(e.total_ms);
        expect(e.response_body).to.deep.equal({ stream: true, text: 'Write to [REDACTED_EMAIL] now' });
      });

      it('filters by key, team, model, provider, status and endpoint, pages by cursor, and refuses a bad query naming the parameter', async () => {
        for (let i = 0; i < 5; i++) await openai(keyA.key).chat.completions.create({ model: 'logged-page', messages: hi });
        await openai(keyB.key).chat.completions.create({ model: 'logged-other', messages: hi });
        const err = await openai(keyB.key)
          .chat.completions.create({ model: 'fail-model', messages: hi })
          .catch((e: unknown) => e);
        expect((err as { status: number }).status).to.equal(500);

        const pages: LogEntry[][] = [];
        let cursor: string | null = null;
        do {
          const q = new URLSearchParams({ key: keyA.id, model: 'logged-page', limit: '2', ...(cursor && { cursor }) });
          const r = await admin(gw, 'GET', `/admin/logs?${q}`);
          expect(r.status, JSON.stringify(r.json)).to.equal(200);
          pages.push(r.json.data);
          cursor = r.json.next_cursor;
        } while (cursor);
        expect(pages.map((p) => p.length)).to.deep.equal([2, 2, 1]);
        const all = pages.flat();
        expect(new Set(all.map((e) => e.id)).size).to.equal(5);
        const order = all.map((e) => [e.at, e.id].join('|'));
        expect(order).to.deep.equal([...order].sort().reverse());

        const ids = async (query: string) => ((await admin(gw, 'GET', `/admin/logs?${query}`)).json.data as LogEntry[]).map((e) => e.model);
        expect(await ids('team=team-red')).to.have.members(['logged-json', 'logged-other', 'fail-model']);
        expect(await ids('status=5xx')).to.deep.equal(['fail-model']);
        expect(await ids('status=200&team=team-red&model=logged-other')).to.deep.equal(['logged-other']);
        expect(await ids('provider=nobody')).to.deep.equal([]);
        expect(await ids('endpoint=embeddings')).to.deep.equal([]);
        expect((await ids('endpoint=chat.completions&provider=openai')).length).to.equal(9);
        const failed = (await admin(gw, 'GET', '/admin/logs?status=500')).json.data[0] as LogEntry;
        expect(failed).to.include({ outcome: 'error', status: 500 });
        expect(failed.error).to.include('upstream broke');
        const future = new Date(Date.now() + 3_600_000).toISOString();
        expect(await ids(`from=${encodeURIComponent(future)}`)).to.deep.equal([]);
        expect((await ids(`to=${encodeURIComponent(future)}`)).length).to.equal(9);

        for (const [q, param] of [
          ['status=abc', 'status'],
          ['from=yesterday', 'from'],
          ['limit=0', 'limit'],
          ['cursor=bm9wZQ', 'cursor'],
          ['colour=red', 'colour'],
          ['from=2026-02-02&to=2026-01-01', 'from'],
        ]) {
          const r = await admin(gw, 'GET', `/admin/logs?${q}`);
          expect(r.status, q).to.equal(400);
          expect(r.json.error.param, q).to.equal(param);
        }
        expect((await admin(gw, 'GET', '/admin/logs/no-such-id')).status).to.equal(404);
        expect((await admin(gw, 'DELETE', '/admin/logs')).status).to.equal(405);
      });

      it('refuses a caller without the admin key: a virtual key, a wrong key, none', async () => {
        for (const headers of [{ authorization: `Bearer ${keyA.key}` }, { authorization: 'Bearer not-the-admin-key-at-all' }, {}] as Record<
          string,
          string
        >[]) {
          const res = await fetch(`${gw.url}/admin/logs`, { headers });
          expect(res.status).to.equal(401);
          expect(JSON.stringify(await res.json())).to.not.include('logged-');
        }
      });

      it('keeps at most maxRows, pruning in the background', async () => {
        const g = await gateway(backend.store(), { retention: { maxRows: 3, pruneEveryMs: 20 } });
        try {
          const k = (await admin(g, 'POST', '/admin/keys', { name: 'few' })).json as { key: string };
          const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: k.key, maxRetries: 0 });
          const made: string[] = [];
          for (let i = 0; i < 6; i++) {
            const { response } = await client.chat.completions.create({ model: `logged-r${i}`, messages: hi }).withResponse();
            made.push(response.headers.get('x-waygate-request-id')!);
          }
          await eventually(10_000, async () => (await admin(g, 'GET', '/admin/logs?limit=50')).json.data.length === 3, 'pruned to 3 rows');
          const kept = ((await admin(g, 'GET', '/admin/logs')).json.data as LogEntry[]).map((e) => e.model);
          expect(kept).to.deep.equal(['logged-r5', 'logged-r4', 'logged-r3']);
        } finally {
          await g.close(0);
        }
      });
    });
  }

  describe('a store that stops answering (PostgreSQL behind a proxy)', function () {
    let proxy: TcpProxy;
    let gw: Gateway;
    const schema = runSchema('reqlog_down');

    before(async function () {
      await requirePostgres(this, 'the request log store outage');
      const u = new URL(DATABASE_URL);
      proxy = await TcpProxy.start(u.hostname, Number(u.port || 5432));
      // A minute's wait on the log's store: a request that waited for it would outlast this test's timeout.
      const store = { type: 'postgres', url: proxy.urlFor(DATABASE_URL), schema, timeoutMs: 60_000, poolSize: 1 };
      gw = await gateway({ type: 'sqlite', path: path.join(tmp, 'down-auth.sqlite') }, { store });
    });
    after(async () => {
      await gw?.close(0);
      await proxy?.close();
      await dropSchema(schema).catch(() => undefined);
    });

    it('answers every request, JSON and streamed, while the store hangs and while it refuses, then writes the rows when it is back', async () => {
      const k = (await admin(gw, 'POST', '/admin/keys', { name: 'outage' })).json as { id: string; key: string };
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: k.key, maxRetries: 0 });
      // Warm the pool's one connection, then freeze it: the next write hangs.
      await client.chat.completions.create({ model: 'logged-warm', messages: hi });
      await eventually(10_000, async () => (await admin(gw, 'GET', `/admin/logs?key=${k.id}`)).json.data.length === 1, 'the first row');
      proxy.freeze();
      for (let i = 0; i < 3; i++) {
        const r = await client.chat.completions.create({ model: `logged-frozen-${i}`, messages: hi });
        expect(r.choices[0]!.message.content).to.be.a('string');
      }
      const s = await client.chat.completions.create({ model: 'logged-frozen-stream', messages: hi, stream: true });
      for await (const _ of s) void _;
      // Refused: every connection cut, the port closed.
      await proxy.cut();
      for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: `logged-cut-${i}`, messages: hi });
      await proxy.resume();
      await eventually(
        15_000,
        async () => {
          const r = await admin(gw, 'GET', `/admin/logs?key=${k.id}&limit=50`);
          return r.status === 200 && r.json.data.length === 7;
        },
        'every row written once the store is back',
      );
    });
  });
});

const sample: LogEntry = {
  id: 'x',
  at: new Date(0).toISOString(),
  key_id: null,
  key_name: null,
  team: null,
  endpoint: 'chat.completions',
  method: 'POST',
  path: '/v1/chat/completions',
  provider: 'openai',
  model: 'm',
  target_path: 'config',
  status: 200,
  outcome: 'success',
  stream: false,
  input_tokens: 1,
  output_tokens: 1,
  cached_tokens: null,
  cost_usd: null,
  total_ms: 1,
  upstream_ms: 1,
  ttft_ms: null,
  retries: 0,
  cache: null,
  guardrails: null,
  error: null,
  detail: null,
  request_body: null,
  response_body: null,
};
