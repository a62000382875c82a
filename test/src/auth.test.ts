// Gateway authentication end to end: the official `openai` and `@anthropic-ai/sdk` clients with a
// virtual key as their api key, against the real gateway (the default plugins) in front of the fake
// OpenAI upstream; the `waygate keys` CLI against a running gateway; two gateway processes sharing
// one PostgreSQL (and one Redis for the cached mode); and the refusal to serve provider keys to
// anyone off loopback.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { AuthenticationError, PermissionDeniedError } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ConfigError, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { REDIS_URL, eventually, silent, useRedis } from '@waygate/core/testing';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '@waygate/auth/testing';
import { FakeOpenAI } from './fakes/index.js';
import { adminCall, authConfig } from './helpers/auth-support.js';
import { killAllClis, spawnCli } from './helpers/proc-cli.js';
import { tempDir, writeConfig } from './helpers/proc-util.js';

const ADMIN = 'the-e2e-admin-key-0123456789abcdef';
const savedAdmin = process.env.WAYGATE_ADMIN_KEY;
let fake: FakeOpenAI;

before(async () => {
  delete process.env.WAYGATE_ADMIN_KEY;
  fake = await FakeOpenAI.start({ apiKey: 'sk-upstream-held' });
});
after(async () => {
  if (savedAdmin !== undefined) process.env.WAYGATE_ADMIN_KEY = savedAdmin;
  await killAllClis();
  await fake?.close();
});

const configWith = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => authConfig(fake.baseURL, auth, extra);
const admin = (url: string, method: string, route: string, body?: unknown) => adminCall(url, ADMIN, method, route, body);

describe('gateway auth through the official SDKs', () => {
  const data = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'waygate-auth-sdk-'));
  let gw: Gateway;
  let key: string;
  let narrow: string;

  before(async () => {
    gw = await startGateway({
      config: configWith({ adminKey: ADMIN, store: { type: 'sqlite', path: path.join(data, 'waygate.sqlite') } }),
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
    key = (await admin(gw.url, 'POST', '/admin/keys', { name: 'sdk' })).json.key;
    narrow = (await admin(gw.url, 'POST', '/admin/keys', { name: 'narrow', models: ['gpt-4o*'] })).json.key;
  });
  after(async () => {
    await gw?.close(0);
    fs.rmSync(data, { recursive: true, force: true });
  });
  beforeEach(() => fake.reset());

  const openai = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  const anthropic = (apiKey: string) => new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0 });

  it('openai: a virtual key is the api key; the upstream gets the gateway’s provider key, never the virtual key', async () => {
    const res = await openai(key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).to.be.a('string');
    expect(fake.requests).to.have.length(1);
    expect(fake.requests[0]!.headers.authorization).to.equal('Bearer sk-upstream-held');
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).to.not.include(key);
  });

  it('openai: streams with a virtual key', async () => {
    const stream = await openai(key).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).to.be.greaterThan(0);
  });

  it('openai: an unknown key is an AuthenticationError (401), a model the key may not use a PermissionDeniedError (403)', async () => {
    const unknown = await openai('wg-00000000_' + 'x'.repeat(43))
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(unknown).to.be.instanceOf(AuthenticationError);
    expect((unknown as AuthenticationError).status).to.equal(401);
    const denied = await openai(narrow)
      .chat.completions.create({ model: 'o1-pro', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(denied).to.be.instanceOf(PermissionDeniedError);
    expect((denied as PermissionDeniedError).message).to.include('o1-pro');
    expect(fake.requests).to.have.length(0);
  });

  it('@anthropic-ai/sdk: a virtual key is the api key (sent as x-api-key) on /v1/messages, bridged to the provider', async () => {
    const msg = await anthropic(key).messages.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]!.type).to.equal('text');
    expect(fake.requests[0]!.headers.authorization).to.equal('Bearer sk-upstream-held');
    expect(JSON.stringify(fake.requests.map((r) => r.headers))).to.not.include(key);
  });

  it('@anthropic-ai/sdk: an unknown key is its AuthenticationError (401), a model not allowed its PermissionDeniedError (403)', async () => {
    const unknown = await anthropic('not-a-key')
      .messages.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(unknown).to.be.instanceOf(Anthropic.AuthenticationError);
    const denied = await anthropic(narrow)
      .messages.create({ model: 'claude-opus', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(denied).to.be.instanceOf(Anthropic.PermissionDeniedError);
    expect(fake.requests).to.have.length(0);
  });
});

describe('the waygate keys CLI and WAYGATE_ADMIN_KEY alone', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('waygate-auth-cli-');
  });
  after(async () => {
    await killAllClis();
    await dir?.cleanup();
  });

  const keysCli = async (args: string[], env: Record<string, string> = {}) => {
    const p = spawnCli(['keys', ...args], { env });
    const exit = await p.waitExit();
    return { code: exit.code, out: p.stdout, err: p.stderr };
  };

  it('turns auth on with WAYGATE_ADMIN_KEY in the environment, stores keys in WAYGATE_DATA_DIR, and creates, lists, shows and revokes keys over HTTP', async () => {
    const dataDir = path.join(dir.dir, 'data');
    const config = await writeConfig(dir.dir, {
      providers: { openai: { api_key: 'sk-upstream-held', base_url: fake.baseURL } },
      routing: { provider: 'openai' },
    });
    const gw = spawnCli(['--config', config, '--port', '0'], { env: { WAYGATE_ADMIN_KEY: ADMIN, WAYGATE_DATA_DIR: dataDir } });
    const { url } = await gw.ready();
    expect(fs.existsSync(path.join(dataDir, 'waygate.sqlite'))).to.equal(true);
    const chat = (k?: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(k ? { authorization: `Bearer ${k}` } : {}) },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.status);
    expect(await chat()).to.equal(401);

    const env = { WAYGATE_URL: url, WAYGATE_ADMIN_KEY: ADMIN };
    const made = await keysCli(['create', '--name', 'from-cli', '--models', 'gpt-4o*,o3*'], env);
    expect(made.code, made.err).to.equal(0);
    const created = JSON.parse(made.out);
    expect(created).to.deep.include({ name: 'from-cli', models: ['gpt-4o*', 'o3*'] });
    expect(await chat(created.key)).to.equal(200);

    const listed = await keysCli(['list', '--url', url, '--admin-key', ADMIN]);
    expect(JSON.parse(listed.out).data.map((k: any) => k.id)).to.include(created.id);
    const shown = await keysCli(['show', created.id], env);
    expect(JSON.parse(shown.out)).to.include({ id: created.id, name: 'from-cli' });
    const revoked = await keysCli(['revoke', created.id], env);
    expect(JSON.parse(revoked.out)).to.include({ id: created.id, revoked: true });
    expect(await chat(created.key)).to.equal(401);

    const refused = await keysCli(['show', created.id], { WAYGATE_URL: url, WAYGATE_ADMIN_KEY: 'a-wrong-admin-key-0000' });
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include('401');
    const usage = await keysCli(['frobnicate'], env);
    expect(usage.code).to.equal(2);
    gw.kill('SIGTERM');
    await gw.waitExit();
  });

  it('generates a key offline whose entry, put in the config file’s static keys, is accepted', async () => {
    const generated = await keysCli(['generate', '--name', 'static-one']);
    expect(generated.code, generated.err).to.equal(0);
    const { key, entry } = JSON.parse(generated.out);
    expect(generated.out.match(new RegExp(key, 'g'))).to.have.length(1);
    const gw = await startGateway({ config: configWith({ keys: [entry] }), port: 0, host: '127.0.0.1', logger: silent });
    try {
      const ok = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(ok.status).to.equal(200);
    } finally {
      await gw.close(0);
    }
  });
});

describe('two gateway processes sharing one PostgreSQL', () => {
  const schema = runSchema('e2e');
  let dir: { dir: string; cleanup: () => Promise<void> };
  let ran = false;
  before(async function () {
    await requirePostgres(this, 'the two-process auth tests');
    ran = true;
    dir = await tempDir('waygate-auth-two-');
  });
  after(async () => {
    await killAllClis();
    await dir?.cleanup();
    if (ran) await dropSchema(schema);
  });

  async function pair(auth: Record<string, unknown>, name: string): Promise<[string, string]> {
    const config = await writeConfig(
      dir.dir,
      configWith({ adminKey: ADMIN, store: { type: 'postgres', url: DATABASE_URL, schema }, ...auth }),
      `${name}.json`,
    );
    const [a, b] = [spawnCli(['--config', config, '--port', '0']), spawnCli(['--config', config, '--port', '0'])];
    return [(await a.ready()).url, (await b.ready()).url];
  }

  const chat = (url: string, k: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.status);

  it('a key revoked on one is refused by both at once (each asks the store on every request)', async () => {
    const [a, b] = await pair({}, 'plain');
    const made = (await admin(a, 'POST', '/admin/keys', { name: 'two-procs' })).json;
    expect([await chat(a, made.key), await chat(b, made.key)]).to.deep.equal([200, 200]);
    expect((await admin(b, 'DELETE', `/admin/keys/${made.id}`)).status).to.equal(200);
    expect([await chat(a, made.key), await chat(b, made.key)]).to.deep.equal([401, 401]);
  });

  describe('with a cache and the Redis fan-out', () => {
    useRedis('the two-process fan-out test');

    it('a key revoked on one is refused by the other as soon as the change arrives, long before the cache’s TTL', async () => {
      const channel = `waygate:test:auth-e2e:${process.pid}:${Date.now()}`;
      const [a, b] = await pair({ cacheTtlMs: 600_000, redis: { url: REDIS_URL, channel } }, 'fanout');
      const made = (await admin(a, 'POST', '/admin/keys', { name: 'fanned' })).json;
      expect([await chat(a, made.key), await chat(b, made.key)]).to.deep.equal([200, 200]);
      await admin(a, 'DELETE', `/admin/keys/${made.id}`);
      expect(await chat(a, made.key)).to.equal(401);
      await eventually(5000, async () => (await chat(b, made.key)) === 401, 'the other process refusing the revoked key');
    });
  });
});

describe('safe defaults: provider keys off loopback', () => {
  it('refuses to start on a non-loopback address with provider keys and no gateway auth, saying what to set', async () => {
    const err = await startGateway({ config: configWith({}), port: 0, host: '0.0.0.0', logger: silent }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/Refusing to listen on 0\.0\.0\.0.*WAYGATE_ADMIN_KEY.*allowUnauthenticated/);
    const inRouting = await startGateway({
      config: { plugins: [], routing: { provider: 'openai', api_key: 'sk-in-routing', custom_host: fake.baseURL } },
      port: 0,
      host: '::',
      logger: silent,
    }).catch((e: unknown) => e);
    expect(inRouting).to.be.instanceOf(ConfigError);
  });

  it('starts there with gateway auth on, or when told to allow it; and on loopback as before', async () => {
    const hash = 'a'.repeat(64);
    for (const [config, host] of [
      [configWith({ keys: [{ id: 'k', name: 'k', sha256: hash }] }), '0.0.0.0'],
      [configWith({}, { server: { allowUnauthenticated: true } }), '0.0.0.0'],
      [configWith({}), '127.0.0.1'],
      [{ plugins: [] }, '0.0.0.0'],
    ] as const) {
      const gw = await startGateway({ config: config as never, port: 0, host, logger: silent });
      await gw.close(0);
    }
  });
});
