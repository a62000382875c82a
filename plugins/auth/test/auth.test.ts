// The plugin end to end: real gateways (the OpenAI and Anthropic APIs, the OpenAI and Anthropic
// providers, the strategies, and this package loaded by its path) in front of a loopback upstream
// that records every request, so that what reaches the provider can be checked header by header.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { TcpProxy } from '@waygate/core/testing';
import plugin, { OptionsSchema, newKey, sha256 } from '../src/index.js';
import { DATABASE_URL, LineLog, Recorder, dropSchema, requirePostgres, runSchema } from './support.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const PLUGINS = [
  '@waygate/openai-api',
  '@waygate/anthropic-messages',
  '@waygate/provider-openai',
  '@waygate/provider-anthropic',
  '@waygate/strategy-single',
  '@waygate/strategy-fallback',
  '@waygate/strategy-conditional',
];
const ADMIN = 'admin-key-for-the-tests-0123456789';
const MSG = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

let up: Recorder;
const savedAdmin = process.env.WAYGATE_ADMIN_KEY;
before(async () => {
  // A developer's own admin key would turn auth on in every gateway here.
  delete process.env.WAYGATE_ADMIN_KEY;
  up = await Recorder.start();
});
after(async () => {
  if (savedAdmin !== undefined) process.env.WAYGATE_ADMIN_KEY = savedAdmin;
  await up?.close();
});

async function start(options: unknown, log = new LineLog(), extra: Record<string, unknown> = {}): Promise<Gateway & { log: LineLog }> {
  const gw = await startGateway({
    config: {
      defaultPlugins: false,
      plugins: [...PLUGINS, { module: THIS_PACKAGE, options }],
      providers: { openai: { api_key: 'sk-server-held', base_url: `${up.url}/server/v1` } },
      routing: { provider: 'openai' },
      ...extra,
    },
    port: 0,
    host: '127.0.0.1',
    logger: log.logger,
  });
  return Object.assign(gw, { log });
}

async function post(
  gw: Gateway,
  headers: Record<string, string>,
  body: unknown = MSG,
  route = '/v1/chat/completions',
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(gw.url + route, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

async function admin(gw: Gateway, method: string, route: string, body?: unknown, key = ADMIN): Promise<{ status: number; json: any }> {
  const res = await fetch(gw.url + route, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('@waygate/auth', () => {
  it('has a manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/auth', kind: 'policy', core: '^1.0.0' });
  });

  it('options: refuse a short admin key, a static key without a well-formed hash, and unknown keys', () => {
    for (const bad of [{ adminKey: 'short' }, { keys: [{ id: 'a', name: 'a', sha256: 'nothex' }] }, { other: 1 }, { store: { schema: 'Bad-Name' } }]) {
      expect(OptionsSchema.safeParse(bad).success, JSON.stringify(bad)).to.equal(false);
    }
  });

  it('is off until configured: no key needed, and no /admin route', async () => {
    const gw = await start({});
    try {
      up.reset();
      expect((await post(gw, {})).status).to.equal(200);
      expect((await admin(gw, 'GET', '/admin/keys')).status).to.equal(404);
    } finally {
      await gw.close(0);
    }
  });

  describe('static keys in the config file', () => {
    const app = newKey('appkey01');
    const limited = newKey('limited1');
    const expired = newKey('expired1');
    const routed = newKey('routed01');
    let gw: Gateway & { log: LineLog };

    before(async () => {
      gw = await start({
        keys: [
          { id: 'app', name: 'app one', sha256: app.hash, team: 'platform', metadata: { owner: 'ann' } },
          { id: 'limited', name: 'limited', sha256: limited.hash, models: ['gpt-4o*'], providers: ['openai'], endpoints: ['chat.*', 'messages'] },
          { id: 'expired', name: 'expired', sha256: expired.hash, expires_at: '2001-01-01T00:00:00Z' },
          {
            id: 'routed',
            name: 'routed',
            sha256: routed.hash,
            metadata: { tier: 'gold' },
            config: {
              strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.tier': { $eq: 'gold' } }, then: 'gold' }], default: 'free' },
              targets: [
                {
                  name: 'gold',
                  strategy: { mode: 'fallback' },
                  targets: [
                    { provider: 'openai', custom_host: `${up.url}/broken/v1` },
                    { provider: 'openai', custom_host: `${up.url}/gold/v1` },
                  ],
                },
                { name: 'free', provider: 'openai', custom_host: `${up.url}/free/v1` },
              ],
            },
          },
        ],
      });
    });
    after(() => gw?.close(0));
    beforeEach(() => up.reset());

    it('accepts a key as Authorization: Bearer, and the provider gets the gateway’s own key, never the gateway key', async () => {
      const res = await post(gw, bearer(app.key));
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(up.seen).to.have.length(1);
      expect(up.seen[0]!.headers.authorization).to.equal('Bearer sk-server-held');
      expect(up.allHeaders()).to.not.include(app.key);
    });

    it('accepts a key as x-api-key (Anthropic SDKs, Claude Code), and never sends it on', async () => {
      const res = await post(gw, { 'x-api-key': app.key });
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(up.allHeaders()).to.not.include(app.key);
      expect(up.seen[0]!.headers).to.not.have.property('x-api-key');
    });

    it('accepts x-waygate-api-key and x-portkey-api-key, and then Authorization is the caller’s own provider key', async () => {
      for (const header of ['x-waygate-api-key', 'x-portkey-api-key']) {
        up.reset();
        const res = await post(gw, { [header]: app.key, authorization: 'Bearer sk-callers-own' });
        expect(res.status, JSON.stringify(res.json)).to.equal(200);
        expect(up.seen[0]!.headers.authorization).to.equal('Bearer sk-callers-own');
        expect(up.allHeaders()).to.not.include(app.key);
      }
    });

    it('never sends the key on, even when the caller asks to forward its header, or sends it in several headers', async () => {
      const res = await post(gw, { ...bearer(app.key), 'x-waygate-forward-headers': 'authorization,x-api-key' });
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      const twice = await post(gw, { 'x-waygate-api-key': app.key, authorization: `Bearer ${app.key}`, 'x-api-key': app.key });
      expect(twice.status, JSON.stringify(twice.json)).to.equal(200);
      expect(up.seen.at(-1)!.headers.authorization).to.equal('Bearer sk-server-held');
      expect(up.allHeaders()).to.not.include(app.key);
    });

    it('answers 401 in OpenAI’s shape without a key, with an unknown key, and with an expired one; nothing goes upstream', async () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{}, 'missing_api_key'],
        [bearer('sk-not-a-gateway-key'), 'invalid_api_key'],
        [bearer(newKey('appkey01').key), 'invalid_api_key'],
        [bearer(expired.key), 'key_expired'],
      ];
      for (const [headers, code] of cases) {
        const res = await post(gw, headers);
        expect(res.status, code).to.equal(401);
        expect(res.json.error).to.include({ code, type: 'authentication_error' });
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
      }
      expect(up.seen).to.have.length(0);
    });

    it('answers 401 in Anthropic’s shape on /v1/messages', async () => {
      const res = await post(
        gw,
        { 'anthropic-version': '2023-06-01' },
        { model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
        '/v1/messages',
      );
      expect(res.status).to.equal(401);
      expect(res.json).to.deep.include({ type: 'error' });
      expect(res.json.error.type).to.equal('authentication_error');
    });

    it('answers 403 for a model, a provider or an endpoint the key may not use, before any upstream call', async () => {
      const model = await post(gw, bearer(limited.key), { ...MSG, model: 'gpt-3.5-turbo' });
      expect(model.status).to.equal(403);
      expect(model.json.error).to.include({ code: 'model_not_allowed', type: 'permission_error', param: 'model' });
      const provider = await post(gw, {
        ...bearer(limited.key),
        'x-waygate-config': JSON.stringify({ provider: 'anthropic', custom_host: `${up.url}/a/v1` }),
      });
      expect(provider.status).to.equal(403);
      expect(provider.json.error.code).to.equal('provider_not_allowed');
      const override = await post(gw, {
        ...bearer(limited.key),
        'x-waygate-config': JSON.stringify({ provider: 'openai', override_params: { model: 'o1-pro' } }),
      });
      expect(override.status).to.equal(403);
      expect(override.json.error.message).to.include('o1-pro');
      const endpoint = await post(gw, bearer(limited.key), { model: 'gpt-4o-embed', input: 'x' }, '/v1/embeddings');
      expect(endpoint.status).to.equal(403);
      expect(endpoint.json.error.code).to.equal('endpoint_not_allowed');
      expect(up.seen).to.have.length(0);
      const ok = await post(gw, bearer(limited.key));
      expect(ok.status).to.equal(200);
    });

    it('routes a request that sends no config by the key’s own config: its metadata drives the condition, and a fallback runs', async () => {
      up.status = { broken: 500 };
      const res = await post(gw, { ...bearer(routed.key), 'x-waygate-metadata': JSON.stringify({ tier: 'free' }) });
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(res.json.choices[0].message.content).to.equal('from gold');
      expect(up.seen.map((s) => s.path.split('/')[1])).to.deep.equal(['broken', 'gold']);
      // The request's own config header still wins over the key's.
      up.reset();
      const own = await post(gw, {
        ...bearer(routed.key),
        'x-waygate-config': JSON.stringify({ provider: 'openai', api_key: 'sk-mine', custom_host: `${up.url}/mine/v1` }),
      });
      expect(own.json.choices[0].message.content).to.equal('from mine');
    });

    it('names the key, its team and metadata on the request’s log line, and no line holds a key', async () => {
      await post(gw, bearer(app.key));
      await post(gw, bearer('sk-wrong-guess'));
      const lines = gw.log.records().filter((r) => r.msg === 'request');
      expect(lines.some((l) => l.keyId === 'app' && l.keyName === 'app one' && l.team === 'platform' && l.keyMetadata?.owner === 'ann')).to.equal(true);
      const text = gw.log.text();
      for (const k of [app.key, limited.key, routed.key, expired.key, 'sk-wrong-guess']) expect(text).to.not.include(k);
    });
  });

  describe('the admin API and the SQLite store', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-auth-e2e-'));
    const file = path.join(dataDir, 'data', 'waygate.sqlite');
    let gw: Gateway & { log: LineLog };

    before(async () => {
      gw = await start({ adminKey: ADMIN, store: { type: 'sqlite', path: file } });
    });
    after(async () => {
      await gw?.close(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    beforeEach(() => up.reset());

    it('creates the store file on first start', () => {
      expect(fs.existsSync(file)).to.equal(true);
    });

    it('refuses the admin API without the admin key, or with another key', async () => {
      expect((await admin(gw, 'GET', '/admin/keys', undefined, 'not-the-admin-key')).status).to.equal(401);
      const res = await fetch(`${gw.url}/admin/keys`);
      expect(res.status).to.equal(401);
      expect(((await res.json()) as any).error.code).to.equal('invalid_admin_key');
    });

    it('refuses a request to /v1 with the admin key: it is not a gateway key', async () => {
      expect((await post(gw, bearer(ADMIN))).status).to.equal(401);
    });

    it('answers 400 naming the field for a bad body', async () => {
      const cases: Array<[unknown, string]> = [
        [{}, 'name'],
        [{ name: 5 }, 'name'],
        [{ name: 'x', rate_limit: { requests_per_minute: -1 } }, 'rate_limit.requests_per_minute'],
        [{ name: 'x', budget: { usd: 10, period: 'week' } }, 'budget.period'],
        [{ name: 'x', models: 'gpt-4o' }, 'models'],
        [{ name: 'x', unknown_field: 1 }, '(body)'],
        [{ name: 'x', team: 'no-such-team' }, 'team'],
        [{ name: 'x', config: { provider: 'nope' } }, 'config.provider'],
        [{ name: 'x', expires_at: 'tomorrow' }, 'expires_at'],
      ];
      for (const [body, param] of cases) {
        const res = await admin(gw, 'POST', '/admin/keys', body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.json.error.param, JSON.stringify(res.json)).to.equal(param);
      }
      const notJson = await fetch(`${gw.url}/admin/keys`, { method: 'POST', headers: bearer(ADMIN), body: '{nope' });
      expect(notJson.status).to.equal(400);
    });

    it('creates a key (201, its text shown once, only its hash stored), lists, shows, changes and revokes it, each at once', async () => {
      const body = {
        name: 'app-1',
        models: ['gpt-4o*'],
        rate_limit: { requests_per_minute: 60, tokens_per_minute: 100000 },
        budget: { usd: 10, period: 'month' },
        metadata: { app: 'one' },
      };
      const made = await admin(gw, 'POST', '/admin/keys', body);
      expect(made.status).to.equal(201);
      expect(made.json.key).to.match(new RegExp(`^wg-${made.json.id}_`));
      expect(made.json).to.deep.include({ ...body, team: null, revoked_at: null });
      expect(made.json).to.not.have.property('hash');
      const key: string = made.json.key;

      const raw = fs.readFileSync(file).toString('latin1') + (fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`).toString('latin1') : '');
      expect(raw).to.not.include(key);
      expect(raw).to.include(sha256(key));

      expect((await post(gw, bearer(key))).status).to.equal(200);
      expect(up.allHeaders()).to.not.include(key);

      const list = await admin(gw, 'GET', '/admin/keys');
      expect(list.json.data.map((k: any) => k.id)).to.include(made.json.id);
      expect(JSON.stringify(list.json)).to.not.include(key);
      const shown = await admin(gw, 'GET', `/admin/keys/${made.json.id}`);
      expect(shown.json).to.deep.include({ id: made.json.id, name: 'app-1', budget: { usd: 10, period: 'month' } });
      expect(shown.json).to.not.have.property('key');

      const patched = await admin(gw, 'PATCH', `/admin/keys/${made.json.id}`, { models: ['gpt-3.5*'] });
      expect(patched.status).to.equal(200);
      expect((await post(gw, bearer(key))).status).to.equal(403);
      expect((await post(gw, bearer(key), { ...MSG, model: 'gpt-3.5-turbo' })).status).to.equal(200);

      const revoked = await admin(gw, 'DELETE', `/admin/keys/${made.json.id}`);
      expect(revoked.json).to.include({ id: made.json.id, revoked: true });
      const refused = await post(gw, bearer(key), { ...MSG, model: 'gpt-3.5-turbo' });
      expect(refused.status).to.equal(401);
      expect(refused.json.error.code).to.equal('key_revoked');
      expect((await admin(gw, 'PATCH', `/admin/keys/${made.json.id}`, { name: 'again' })).status).to.equal(409);
      expect((await admin(gw, 'GET', '/admin/keys')).json.data.map((k: any) => k.id)).to.not.include(made.json.id);
      expect((await admin(gw, 'GET', '/admin/keys?include_revoked=true')).json.data.map((k: any) => k.id)).to.include(made.json.id);
      expect((await admin(gw, 'GET', '/admin/keys/zzzzzzzz')).status).to.equal(404);
      expect((await admin(gw, 'DELETE', '/admin/keys/zzzzzzzz')).status).to.equal(404);
      expect((await admin(gw, 'PUT', `/admin/keys/${made.json.id}`, {})).status).to.equal(405);
      expect((await admin(gw, 'GET', '/admin/nothing')).status).to.equal(404);
    });

    it('keeps teams: a team’s rules apply to its keys, a change to the team applies at once, and a team with active keys is not deleted', async () => {
      const t = await admin(gw, 'POST', '/admin/teams', { id: 'research', name: 'Research', models: ['gpt-4o*'], metadata: { dept: 'r' } });
      expect(t.status).to.equal(201);
      expect((await admin(gw, 'POST', '/admin/teams', { id: 'research', name: 'again' })).status).to.equal(409);
      const k = await admin(gw, 'POST', '/admin/keys', { name: 'r1', team: 'research' });
      expect(k.status).to.equal(201);
      expect((await post(gw, bearer(k.json.key))).status).to.equal(200);
      expect((await post(gw, bearer(k.json.key), { ...MSG, model: 'claude-3' })).status).to.equal(403);
      expect((await admin(gw, 'PATCH', '/admin/teams/research', { models: null })).status).to.equal(200);
      expect((await post(gw, bearer(k.json.key), { ...MSG, model: 'claude-3' })).status).to.equal(200);
      const shown = await admin(gw, 'GET', '/admin/teams/research');
      expect(shown.json).to.deep.include({ id: 'research', name: 'Research', keys: [k.json.id] });
      expect((await admin(gw, 'GET', '/admin/teams')).json.data.map((x: any) => x.id)).to.include('research');
      const inUse = await admin(gw, 'DELETE', '/admin/teams/research');
      expect(inUse.status).to.equal(409);
      expect(inUse.json.error.code).to.equal('team_in_use');
      await admin(gw, 'DELETE', `/admin/keys/${k.json.id}`);
      expect((await admin(gw, 'DELETE', '/admin/teams/research')).json).to.deep.equal({ id: 'research', deleted: true });
      expect((await admin(gw, 'GET', '/admin/teams/research')).status).to.equal(404);
    });

    it('logs each admin change, without the key’s text', async () => {
      const k = await admin(gw, 'POST', '/admin/keys', { name: 'audited' });
      await admin(gw, 'DELETE', `/admin/keys/${k.json.id}`);
      const admins = gw.log.records().filter((r) => r.msg === 'admin');
      expect(admins.map((r) => [r.admin, r.id])).to.deep.include.members([
        ['keys.create', k.json.id],
        ['keys.revoke', k.json.id],
      ]);
      expect(gw.log.text()).to.not.include(k.json.key);
    });

    it('keeps its keys across a restart', async () => {
      const k = await admin(gw, 'POST', '/admin/keys', { name: 'durable' });
      await gw.close(0);
      gw = await start({ adminKey: { sha256: sha256(ADMIN) }, store: { type: 'sqlite', path: file } });
      expect((await post(gw, bearer(k.json.key))).status).to.equal(200);
    });
  });

  describe('a PostgreSQL store that stops answering', () => {
    const schema = runSchema('down');
    let proxy: TcpProxy | undefined;
    let ran = false;
    before(async function () {
      await requirePostgres(this, 'the store-outage tests');
      ran = true;
      const u = new URL(DATABASE_URL);
      proxy = await TcpProxy.start(u.hostname, Number(u.port || 5432));
    });
    after(async () => {
      await proxy?.close();
      if (ran) await dropSchema(schema);
    });

    const through = () => {
      const u = new URL(DATABASE_URL);
      u.hostname = '127.0.0.1';
      u.port = String(proxy!.port);
      return u.href;
    };

    it('fails closed: a 503 within the store timeout, never a hang and never an unchecked request; then recovers', async () => {
      const gw = await start({ adminKey: ADMIN, store: { type: 'postgres', url: through(), schema, timeoutMs: 300 } });
      try {
        const k = await admin(gw, 'POST', '/admin/keys', { name: 'pg-key' });
        expect((await post(gw, bearer(k.json.key))).status).to.equal(200);
        // Its spend row written (showing the key waits for that), so no write holds a connection when the store freezes.
        await admin(gw, 'GET', `/admin/keys/${k.json.id}`);
        up.reset();
        proxy!.freeze();
        const res = await post(gw, bearer(k.json.key));
        expect(res.status).to.equal(503);
        expect(res.json.error.code).to.equal('auth_unavailable');
        expect(res.headers.get('retry-after')).to.equal('1');
        expect(up.seen).to.have.length(0);
        proxy!.thaw();
        await proxy!.cut();
        await proxy!.resume();
        expect((await post(gw, bearer(k.json.key))).status).to.equal(200);
      } finally {
        proxy!.thaw();
        await gw.close(0);
      }
    });

    it('refuses a request whose budget it cannot check (503 budget_unavailable, nothing upstream), or with "last-known" lets it through', async () => {
      const made = newKey('budgeted');
      const keys = [{ id: made.id, name: 'budgeted', sha256: made.hash, budget: { usd: 5 } }];
      const refuse = await start({ adminKey: ADMIN, keys, store: { type: 'postgres', url: through(), schema, timeoutMs: 300 } });
      const carryOn = await start({
        adminKey: ADMIN,
        keys,
        store: { type: 'postgres', url: through(), schema, timeoutMs: 300 },
        whenStoreDown: 'last-known',
      });
      try {
        expect((await post(refuse, bearer(made.key))).status).to.equal(200);
        await proxy!.cut();
        up.reset();
        const res = await post(refuse, bearer(made.key));
        expect(res.status).to.equal(503);
        expect(res.json.error.code).to.equal('budget_unavailable');
        expect(res.headers.get('retry-after')).to.equal('1');
        expect(up.seen).to.have.length(0);
        expect((await post(carryOn, bearer(made.key))).status).to.equal(200);
      } finally {
        await proxy!.resume();
        await Promise.all([refuse.close(0), carryOn.close(0)]);
      }
    });

    it('with whenStoreDown "last-known", accepts a key it saw recently while the store is away, and still refuses others', async () => {
      const gw = await start({ adminKey: ADMIN, store: { type: 'postgres', url: through(), schema, timeoutMs: 300 }, whenStoreDown: 'last-known' });
      try {
        const seen = await admin(gw, 'POST', '/admin/keys', { name: 'seen' });
        const unseen = await admin(gw, 'POST', '/admin/keys', { name: 'unseen' });
        expect((await post(gw, bearer(seen.json.key))).status).to.equal(200);
        await proxy!.cut();
        expect((await post(gw, bearer(seen.json.key))).status).to.equal(200);
        expect((await post(gw, bearer(unseen.json.key))).status).to.equal(503);
      } finally {
        await proxy!.resume();
        await gw.close(0);
      }
    });
  });
});
