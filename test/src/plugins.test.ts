// End-to-end: third-party plugins loaded from configuration (paths relative to the config file,
// package names), their options and taps, provider registration; every way a plugin is refused at
// start-up; errors thrown by taps as clients see them; and invalid gateway configs.
import { expect } from 'chai';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, CORE_VERSION, PluginLoadError, createLogger, startGateway } from '@waygate/core';
import { BUNDLED_PLUGINS as DEFAULT_PLUGINS } from '@waygate/core/testing';
import type { FileConfigInput, Gateway, StartOptions } from '@waygate/core';
import { FakeOpenAI } from './fakes/index.js';
import { LogCapture } from './helpers/api-support.js';
import { CHAT, fixture, getJson, postJson, relativeSpec, tempDir, writeConfig } from './helpers/proc-util.js';

const silent = createLogger({ level: 'silent' });
const POLICY = fixture('third-party-plugin', 'index.js');
const PROVIDER = fixture('acme-provider', 'index.js');
const REFUSALS = fixture('refusals');

/** Starts a gateway on an ephemeral port with a silent logger; closed after each test. */
const running: Gateway[] = [];
async function start(opts: StartOptions): Promise<Gateway> {
  const gw = await startGateway({ port: 0, host: '127.0.0.1', logger: silent, ...opts });
  running.push(gw);
  return gw;
}

async function closeAll(): Promise<void> {
  await Promise.all(running.splice(0).map((gw) => gw.close(0)));
}

/** Starts a gateway that must not start; returns what it was refused with. */
async function refused(opts: StartOptions): Promise<Error> {
  let gw: Gateway | undefined;
  try {
    gw = await startGateway({ port: 0, host: '127.0.0.1', logger: silent, ...opts });
  } catch (err) {
    expect(err).to.be.instanceOf(Error);
    return err as Error;
  }
  await gw.close(0);
  throw new Error('expected startGateway to refuse this config, but the gateway started');
}

/** Like refused(), and checks it is a PluginLoadError naming `plugin`. */
async function refusedPlugin(opts: StartOptions, plugin: string): Promise<PluginLoadError> {
  const err = await refused(opts);
  expect(err, err.stack).to.be.instanceOf(PluginLoadError);
  const perr = err as PluginLoadError;
  expect(perr.plugin).to.equal(plugin);
  expect(perr.message).to.include(`Cannot load plugin ${plugin}:`);
  return perr;
}

function chatUrl(gw: Gateway): string {
  return `${gw.url}/v1/chat/completions`;
}

describe('plugins (end to end)', function () {
  this.timeout(20_000);
  let fake: FakeOpenAI;

  before(async () => {
    fake = await FakeOpenAI.start({ name: 'upstream-a' });
  });
  after(async () => {
    await closeAll();
    await fake.close();
  });
  beforeEach(() => fake.reset());
  afterEach(closeAll);

  describe('a third-party plugin loaded from a path relative to the config file', () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let configFile: string;
    let gw: Gateway;

    before(async () => {
      tmp = await tempDir('waygate-plugins-');
    });
    after(async () => {
      await tmp.cleanup();
    });

    beforeEach(async () => {
      const config: FileConfigInput = {
        version: 'plugins-e2e-1',
        providers: {
          openai: { base_url: fake.baseURL, api_key: 'sk-file-key-0001' },
          'acme-llm': { base_url: fake.baseURL },
        },
        routing: { provider: 'openai' },
        plugins: [
          {
            module: relativeSpec(tmp.dir, POLICY),
            options: {
              header: 'x-acme-policy',
              value: 'checked-v7',
              blockedModels: ['blocked-model', 'legacy-model'],
              message: 'Blocked by the ACME policy.',
            },
          },
          relativeSpec(tmp.dir, PROVIDER),
        ],
      };
      configFile = await writeConfig(tmp.dir, config);
      // The working directory is not the config's: the specifiers only resolve against the config file.
      expect(path.dirname(configFile)).to.not.equal(process.cwd());
      gw = await start({ config: configFile });
    });

    it('uses specifiers that are really relative to the config file', () => {
      const spec = relativeSpec(tmp.dir, POLICY);
      expect(spec.startsWith('../')).to.equal(true);
      expect(path.resolve(tmp.dir, spec)).to.equal(POLICY);
    });

    it('lists the plugins on /health with their versions and kinds, after the bundled ones, in config order', async () => {
      const health = await getJson(`${gw.url}/health`);
      expect(health.status).to.equal(200);
      expect(health.body.status).to.equal('ok');
      expect(health.body.version).to.equal(CORE_VERSION);
      expect(health.body.config_version).to.equal('plugins-e2e-1');
      const names = (health.body.plugins as Array<{ name: string }>).map((p) => p.name);
      const n = DEFAULT_PLUGINS.length;
      expect(names).to.deep.equal([...DEFAULT_PLUGINS, 'acme-waygate-policy', 'acme-waygate-provider']);
      expect(health.body.plugins[n]).to.deep.equal({ name: 'acme-waygate-policy', version: '2.3.4', kind: 'guardrail' });
      expect(health.body.plugins[n + 1]).to.deep.equal({ name: 'acme-waygate-provider', version: '0.4.0', kind: 'provider' });
      expect(gw.kernel.plugins[n]!.module).to.equal(relativeSpec(tmp.dir, POLICY));
    });

    it('runs its afterResponse tap with its options on a routed answer', async () => {
      const res = await postJson(chatUrl(gw), CHAT);
      expect(res.status).to.equal(200);
      expect(res.body.choices[0].message.content).to.equal('Hello from upstream-a');
      expect(res.headers.get('x-acme-policy')).to.equal('checked-v7');
      expect(res.headers.get('x-acme-blocked')).to.equal(null);
      expect(fake.requests).to.have.length(1);
      expect(fake.requests[0]!.headers.authorization).to.equal('Bearer sk-file-key-0001');
    });

    it("adds the field it annotates to the request's log line", async () => {
      const logs = new LogCapture('info');
      const logged = await start({ config: configFile, logger: logs.logger });
      const res = await postJson(chatUrl(logged), CHAT);
      expect(res.status).to.equal(200);
      const line = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request');
      expect(line?.acmePolicy).to.equal('checked-v7');
      expect(line?.status, 'core fields are not overwritten').to.equal(200);
    });

    it('answers early from its beforeRequest tap for every model its options block, without calling the upstream', async () => {
      for (const model of ['blocked-model', 'legacy-model']) {
        const res = await postJson(chatUrl(gw), { ...CHAT, model });
        expect(res.status, model).to.equal(200);
        expect(res.body.model).to.equal(model);
        expect(res.body.choices[0].message.content).to.equal('Blocked by the ACME policy.');
        expect(res.body.choices[0].finish_reason).to.equal('content_filter');
        expect(res.headers.get('x-acme-blocked')).to.equal('true');
        // afterResponse sees early answers too.
        expect(res.headers.get('x-acme-policy')).to.equal('checked-v7');
      }
      expect(fake.requests).to.have.length(0);
    });

    it('stamps its header on error answers as well (afterResponse sees every response)', async () => {
      const res = await postJson(chatUrl(gw), CHAT, { 'x-waygate-provider': 'no-such-provider' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('unknown_provider');
      expect(res.headers.get('x-acme-policy')).to.equal('checked-v7');
    });

    it('routes to a provider another third-party plugin registered, through its hand-written adapter', async () => {
      const res = await postJson(
        chatUrl(gw),
        { ...CHAT, model: 'acme/gpt-4o' },
        {
          'x-waygate-provider': 'acme-llm',
          authorization: 'Bearer sk-acme-0002',
        },
      );
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.served_by).to.equal('acme-llm'); // the adapter's mapResponse ran
      expect(res.body.model).to.equal('gpt-4o');
      expect(res.body.choices[0].message.content).to.equal('Hello from upstream-a');
      expect(res.headers.get('x-acme-policy')).to.equal('checked-v7');
      expect(fake.requests).to.have.length(1);
      const seen = fake.requests[0]!;
      expect(seen.path).to.equal('/v1/chat/completions');
      expect(seen.body.model).to.equal('gpt-4o'); // the adapter's build() rewrote it
      expect(seen.headers['x-acme-client']).to.equal('waygate');
      expect(seen.headers.authorization).to.equal('Bearer sk-acme-0002');
    });

    it('refuses an endpoint the third-party provider does not declare', async () => {
      const res = await postJson(
        `${gw.url}/v1/embeddings`,
        { model: 'acme/e', input: 'x' },
        {
          'x-waygate-provider': 'acme-llm',
          authorization: 'Bearer sk-acme-0002',
        },
      );
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('unsupported_endpoint');
      expect(fake.requests).to.have.length(0);
    });
  });

  it("resolves an object config's plugin paths against baseDir, and the file routing may name a third-party provider", async () => {
    const gw = await start({
      baseDir: path.dirname(path.dirname(PROVIDER)),
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', { module: './acme-provider/index.js', options: { modelPrefix: 'team-x:' } }],
        providers: { 'acme-llm': { base_url: fake.baseURL, api_key: 'sk-acme-server-3' } },
        routing: { provider: 'acme-llm' },
      },
    });
    const health = await getJson(`${gw.url}/health`);
    expect((health.body.plugins as Array<{ name: string }>).map((p) => p.name)).to.deep.equal(['@waygate/openai-api', 'acme-waygate-provider']);
    const res = await postJson(chatUrl(gw), { ...CHAT, model: 'team-x:gpt-4o-mini' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.served_by).to.equal('acme-llm');
    expect(fake.requests[0]!.body.model).to.equal('gpt-4o-mini'); // options.modelPrefix applied
    expect(fake.requests[0]!.headers.authorization).to.equal('Bearer sk-acme-server-3');
    // Without defaultPlugins the bundled providers are not there.
    const other = await postJson(chatUrl(gw), CHAT, { 'x-waygate-provider': 'openai', authorization: 'Bearer sk-x' });
    expect(other.status).to.equal(400);
    expect(other.body.error.code).to.equal('unknown_provider');
  });

  it('resolves a package name from the node_modules next to the config file', async () => {
    const tmp = await tempDir('waygate-pkgname-');
    try {
      await mkdir(path.join(tmp.dir, 'node_modules'));
      await symlink(path.dirname(POLICY), path.join(tmp.dir, 'node_modules', 'acme-waygate-policy'), 'dir');
      const file = await writeConfig(tmp.dir, {
        plugins: [{ module: 'acme-waygate-policy', options: { header: 'x-from-package', value: 'yes' } }],
      });
      const gw = await start({ config: file });
      const info = gw.kernel.plugins.find((p) => p.name === 'acme-waygate-policy');
      expect(info).to.deep.include({ version: '2.3.4', module: 'acme-waygate-policy' });
      const res = await postJson(chatUrl(gw), { ...CHAT, model: 'blocked-model' }, { 'x-waygate-provider': 'openai' });
      expect(res.status).to.equal(200);
      // Defaults from the plugin's schema apply to options the config leaves out.
      expect(res.body.choices[0].message.content).to.equal('This model is blocked by policy.');
      expect(res.headers.get('x-from-package')).to.equal('yes');
    } finally {
      await tmp.cleanup();
    }
  });

  describe('refusals at start-up', () => {
    it('refuses a plugin whose manifest.core range does not match the running core, naming both versions', async () => {
      const err = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['./future-core.js'] } }, 'acme-future-plugin');
      expect(err.message).to.include('^2.0.0');
      expect(err.message).to.include(CORE_VERSION);
      expect(CORE_VERSION).to.match(/^1\./);
    });

    it('refuses the same incompatible plugin named in a config file, relative to that file', async () => {
      const tmp = await tempDir('waygate-refuse-');
      try {
        const file = await writeConfig(tmp.dir, { plugins: [relativeSpec(tmp.dir, path.join(REFUSALS, 'future-core.js'))] });
        const err = await refusedPlugin({ config: file }, 'acme-future-plugin');
        expect(err.message).to.match(/requires @waygate\/core \^2\.0\.0, but this gateway runs @waygate\/core \d+\.\d+\.\d+/);
      } finally {
        await tmp.cleanup();
      }
    });

    it('refuses invalid options with the zod error naming each option path', async () => {
      const bad = await refusedPlugin(
        { config: { plugins: [{ module: POLICY, options: { header: 'Not A Header', value: '' } }] } },
        'acme-waygate-policy',
      );
      expect(bad.message).to.include('invalid options');
      expect(bad.message).to.include('options.header');
      expect(bad.message).to.include('a lower-case header name starting with "x-"');
      expect(bad.message).to.include('options.value');

      const missing = await refusedPlugin({ config: { plugins: [POLICY] } }, 'acme-waygate-policy');
      expect(missing.message).to.include('options.header');

      const nested = await refusedPlugin(
        { config: { plugins: [{ module: POLICY, options: { header: 'x-a', value: 'v', blockedModels: ['ok', 7] } }] } },
        'acme-waygate-policy',
      );
      expect(nested.message).to.include('options.blockedModels[1]');

      const unknown = await refusedPlugin(
        { config: { plugins: [{ module: POLICY, options: { header: 'x-a', value: 'v', colour: 'red' } }] } },
        'acme-waygate-policy',
      );
      expect(unknown.message).to.include('colour');
    });

    it('refuses a module path that does not exist, naming it', async () => {
      const err = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['./does-not-exist.js'] } }, './does-not-exist.js');
      expect(err.message).to.include('import failed');
      expect(err.message).to.include(path.join(REFUSALS, 'does-not-exist.js'));

      const pkg = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['acme-not-installed'] } }, 'acme-not-installed');
      expect(pkg.message).to.include('module not found');
    });

    it('refuses a default export without a manifest', async () => {
      const err = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['./no-manifest.js'] } }, './no-manifest.js');
      expect(err.message).to.include('has no manifest');
    });

    it('refuses a plugin whose setup() throws, with its reason', async () => {
      const err = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['./setup-throws.js'] } }, 'acme-broken-setup');
      expect(err.message).to.include('setup() failed');
      expect(err.message).to.include('cannot reach the moderation service at http://127.0.0.1:9');
      expect((err.cause as Error).message).to.equal('cannot reach the moderation service at http://127.0.0.1:9');
    });

    it('refuses a plugin whose setup() never finishes, after server.pluginSetupTimeoutMs', async () => {
      const err = await refusedPlugin(
        { baseDir: REFUSALS, config: { server: { pluginSetupTimeoutMs: 200 }, plugins: ['./setup-hangs.js'] } },
        'acme-hanging-setup',
      );
      expect(err.message).to.include('did not finish within 200 ms');
    });

    it('seals the hooks and the provider registry once started: a late tap fails, naming the plugin and "sealed"', async () => {
      const gw = await start({ baseDir: REFUSALS, config: { plugins: ['./late-tapper.js'] } });
      expect(gw.kernel.sealed).to.equal(true);
      expect(gw.kernel.plugins.map((p) => p.name)).to.include('acme-late-tapper');
      const counts = {
        beforeRequest: gw.kernel.hooks.beforeRequest.taps.length,
        afterResponse: gw.kernel.hooks.afterResponse.taps.length,
      };
      expect(() => gw.kernel.hooks.beforeRequest.tapPromise('late', async () => undefined)).to.throw(/beforeRequest hook is sealed/);
      expect(() => gw.kernel.hooks.selectTarget.for('late')).to.throw(/sealed/);
      expect(() => gw.kernel.hooks.selectTarget.get('fallback')!.tap('late', () => undefined)).to.throw(/sealed/);
      expect(() => gw.kernel.hooks.onError.tapAsync('late', (_e, _c, cb) => cb())).to.throw(/sealed/);
      expect(() => gw.kernel.hooks.afterResponse.intercept({})).to.throw(/sealed/);
      expect(() => gw.kernel.providers.register('late', 'late-provider', { id: 'late-provider', endpoints: {} })).to.throw(/sealed/);
      expect(() => gw.kernel.apiFor('late').register.provider({ id: 'late-provider', endpoints: {} })).to.throw(/sealed/);
      expect(gw.kernel.providers.has('late-provider')).to.equal(false);

      // The plugin itself tries to tap while serving a request.
      const res = await postJson(
        chatUrl(gw),
        { ...CHAT, model: 'tap-late' },
        {
          'x-waygate-provider': 'openai',
          'x-waygate-custom-host': fake.baseURL,
          authorization: 'Bearer sk-x',
        },
      );
      expect(res.status).to.equal(500);
      expect(res.body.error.message).to.include('acme-late-tapper');
      expect(res.body.error.message).to.include('beforeRequest');
      expect(res.body.error.message).to.include('afterResponse hook is sealed');
      expect(fake.requests).to.have.length(0);
      expect(gw.kernel.hooks.beforeRequest.taps.length).to.equal(counts.beforeRequest);
      expect(gw.kernel.hooks.afterResponse.taps.length).to.equal(counts.afterResponse);

      // Other requests are unaffected.
      const ok = await postJson(chatUrl(gw), CHAT, {
        'x-waygate-provider': 'openai',
        'x-waygate-custom-host': fake.baseURL,
        authorization: 'Bearer sk-x',
      });
      expect(ok.status).to.equal(200);
    });

    it('refuses two plugins registering the same provider slug, naming the slug and the first owner', async () => {
      const withBundled = await refusedPlugin({ baseDir: REFUSALS, config: { plugins: ['./duplicate-provider.js'] } }, 'acme-duplicate-provider');
      expect(withBundled.message).to.include('"openai"');
      expect(withBundled.message).to.include('already registered by @waygate/provider-openai');

      const thirdParties = await refusedPlugin(
        {
          baseDir: REFUSALS,
          config: { plugins: [PROVIDER, { module: './duplicate-provider.js', options: { slug: 'acme-llm' } }] },
        },
        'acme-duplicate-provider',
      );
      expect(thirdParties.message).to.include('"acme-llm"');
      expect(thirdParties.message).to.include('already registered by acme-waygate-provider');
    });

    it('refuses the same plugin listed twice', async () => {
      const err = await refusedPlugin(
        {
          config: {
            plugins: [
              { module: POLICY, options: { header: 'x-a', value: '1' } },
              { module: POLICY, options: { header: 'x-b', value: '2' } },
            ],
          },
        },
        'acme-waygate-policy',
      );
      expect(err.message).to.include('loaded twice');
    });

    it('refuses to start when no loaded plugin serves any endpoint (defaultPlugins false, no endpoint plugin)', async () => {
      const err = await refused({ config: { defaultPlugins: false, plugins: ['@waygate/provider-openai'] } });
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include('No loaded plugin registers a client-facing endpoint');
      expect(err.message).to.include('@waygate/openai-api');
    });

    it('skips an entry with "enabled": false without loading it', async () => {
      const gw = await start({ baseDir: REFUSALS, config: { plugins: [{ module: './future-core.js', enabled: false }] } });
      expect(gw.kernel.plugins.map((p) => p.name)).to.not.include('acme-future-plugin');
    });
    it('lets a config entry replace a default plugin: with its own options, or disabled', async () => {
      const withOptions = await start({ config: { plugins: [{ module: '@waygate/retry', options: { baseDelayMs: 5 } }] } });
      const names = withOptions.kernel.plugins.map((p) => p.name);
      expect(names.filter((n) => n === '@waygate/retry')).to.have.length(1);
      expect(names[names.length - 1]).to.equal('@waygate/retry');
      const disabled = await start({ config: { plugins: [{ module: '@waygate/retry', enabled: false }] } });
      expect(disabled.kernel.plugins.map((p) => p.name)).to.not.include('@waygate/retry');
      expect(disabled.kernel.plugins.map((p) => p.name)).to.include('@waygate/strategy-fallback');
    });
  });

  describe('errors thrown by taps, as the client sees them', () => {
    let gw: Gateway;
    beforeEach(async () => {
      gw = await start({
        baseDir: REFUSALS,
        config: {
          providers: { openai: { base_url: fake.baseURL, api_key: 'sk-file-key-0004' } },
          routing: { provider: 'openai' },
          plugins: ['./faulty-taps.js'],
        },
      });
    });

    function expectOpenAIError(body: any): void {
      expect(body).to.have.all.keys('error');
      expect(body.error).to.have.all.keys('message', 'type', 'code', 'param');
      expect(body.error.message).to.be.a('string');
    }

    it('passes requests when the taps do not fail', async () => {
      const res = await postJson(chatUrl(gw), CHAT);
      expect(res.status).to.equal(200);
      expect(res.body.choices[0].message.content).to.equal('Hello from upstream-a');
    });

    it("turns an Error thrown in a beforeRequest tap into a 500 in OpenAI's shape naming the plugin and the hook", async () => {
      const res = await postJson(chatUrl(gw), { ...CHAT, model: 'crash' });
      expect(res.status).to.equal(500);
      expectOpenAIError(res.body);
      expect(res.body.error.type).to.equal('server_error');
      expect(res.body.error.code).to.equal('internal_error');
      expect(res.body.error.message).to.include('acme-faulty');
      expect(res.body.error.message).to.include('beforeRequest');
      expect(res.body.error.message).to.include('kaboom: the policy table is missing');
      expect(fake.requests).to.have.length(0);
    });

    it('names the plugin and hook for sync and callback taps too', async () => {
      const sync = await postJson(chatUrl(gw), { ...CHAT, model: 'crash-sync' });
      expect(sync.status).to.equal(500);
      expectOpenAIError(sync.body);
      expect(sync.body.error.message).to.include('plugin acme-faulty');
      expect(sync.body.error.message).to.include('beforeRequest');
      expect(sync.body.error.message).to.include('sync tap exploded');

      const cb = await postJson(chatUrl(gw), { ...CHAT, model: 'crash-callback' });
      expect(cb.status).to.equal(500);
      expectOpenAIError(cb.body);
      expect(cb.body.error.message).to.include('plugin acme-faulty');
      expect(cb.body.error.message).to.include('beforeRequest');
      expect(cb.body.error.message).to.include('callback tap failed');
      expect(fake.requests).to.have.length(0);
    });

    it('turns an Error thrown in an afterResponse tap into a 500 naming the plugin and afterResponse', async () => {
      const res = await postJson(chatUrl(gw), { ...CHAT, model: 'crash-after' });
      expect(res.status).to.equal(500);
      expectOpenAIError(res.body);
      expect(res.body.error.message).to.include('acme-faulty');
      expect(res.body.error.message).to.include('afterResponse');
      expect(res.body.error.message).to.include('could not account usage');
      expect(fake.requests).to.have.length(1); // the upstream answered; the tap failed after it
    });

    it('relays a GatewayError 403 thrown by a tap as that 403', async () => {
      const res = await postJson(chatUrl(gw), { ...CHAT, model: 'forbidden' });
      expect(res.status).to.equal(403);
      expect(res.body).to.deep.equal({
        error: {
          message: 'Model forbidden is not allowed for this team',
          type: 'permission_error',
          code: 'acme_forbidden',
          param: 'model',
        },
      });
      expect(fake.requests).to.have.length(0);
    });
  });

  describe('invalid gateway configs', () => {
    it('refuses a wrongly typed field with a ConfigError naming its path', async () => {
      const err = await refused({ config: { server: { port: 'x' } } as unknown as FileConfigInput });
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include('server.port');
    });

    it('refuses unknown keys, at the top level and nested, naming them', async () => {
      const top = await refused({ config: { bogus: true } as unknown as FileConfigInput });
      expect(top).to.be.instanceOf(ConfigError);
      expect(top.message).to.include('bogus');

      const nested = await refused({ config: { server: { prot: 8080 } } as unknown as FileConfigInput });
      expect(nested).to.be.instanceOf(ConfigError);
      expect(nested.message).to.include('server');
      expect(nested.message).to.include('prot');

      const entry = await refused({ config: { plugins: [{ module: POLICY, option: {} }] } as unknown as FileConfigInput });
      expect(entry).to.be.instanceOf(ConfigError);
      expect(entry.message).to.include('plugins[0]');
      expect(entry.message).to.include('option');
    });

    it('names the config file and the path for a bad file, and says when it is not JSON', async () => {
      const tmp = await tempDir('waygate-badcfg-');
      try {
        const file = await writeConfig(tmp.dir, { log: { level: 'loud' } });
        const err = await refused({ config: file });
        expect(err).to.be.instanceOf(ConfigError);
        expect(err.message).to.include(file);
        expect(err.message).to.include('log.level');

        const broken = path.join(tmp.dir, 'broken.json');
        await writeFile(broken, '{ "plugins": [ }');
        const notJson = await refused({ config: broken });
        expect(notJson).to.be.instanceOf(ConfigError);
        expect(notJson.message).to.include(broken);
        expect(notJson.message).to.include('not valid JSON');

        const missing = await refused({ config: path.join(tmp.dir, 'absent.json') });
        expect(missing).to.be.instanceOf(ConfigError);
        expect(missing.message).to.include('absent.json');
      } finally {
        await tmp.cleanup();
      }
    });

    it('refuses an env: reference to a variable that is not set, naming the path and the variable', async () => {
      const err = await refused({
        config: { providers: { openai: { api_key: 'env:WAYGATE_TEST_UNSET_KEY' } } },
        env: {},
      });
      expect(err).to.be.instanceOf(ConfigError);
      expect(err.message).to.include('providers.openai.api_key');
      expect(err.message).to.include('WAYGATE_TEST_UNSET_KEY');
    });

    it('refuses a routing config that names a provider no plugin registered', async () => {
      const err = await refused({ config: { routing: { provider: 'nope' } } });
      expect(err.message).to.include('routing.provider');
      expect(err.message).to.include('unknown provider "nope"');
      expect(err.message).to.include('openai'); // it lists what it knows

      const nested = await refused({
        config: { routing: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai' }, { provider: 'acme-llm' }] } },
      });
      expect(nested.message).to.include('routing.targets[1].provider');
      expect(nested.message).to.include('"acme-llm"');
    });
  });
});
