import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { ConfigNode, Gateway } from '@waygate/core';
import plugin, { ConditionalRouter, compileConditional, conditionalStrategy } from '../src/index.js';
import { Upstream, chat, kernelWithAllStrategies, makeCtx, strategyModes, newKernel, paths, plan, silent, thrown, use } from './harness.js';

const leaf = (name: string, provider: string, extra: ConfigNode = {}): ConfigNode => ({ name, provider, ...extra });

const tiered = (): ConfigNode => ({
  strategy: {
    mode: 'conditional',
    conditions: [
      { query: { 'metadata.tier': 'enterprise' }, then: 'big' },
      { query: { $or: [{ 'metadata.tier': 'pro' }, { 'params.model': { $regex: '^gpt-4' } }] }, then: 'mid' },
    ],
    default: 'small',
  },
  targets: [leaf('small', 'alpha'), leaf('mid', 'beta'), leaf('big', 'gamma')],
});

describe('@waygate/strategy-conditional', () => {
  it('has a strategy manifest and registers mode "conditional"', async () => {
    expect(plugin.manifest).to.include({ name: '@waygate/strategy-conditional', version: '1.0.0', kind: 'strategy', core: '^1.0.0' });
    expect(conditionalStrategy.mode).to.equal('conditional');
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(strategyModes(kernel)).to.deep.equal(['conditional']);
  });

  describe('selection', () => {
    it('the first matching condition wins; then the default', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config = tiered();
      const pick = (init: Parameters<typeof plan>[2]) => plan(kernel, config, init).targets.map((t) => t.provider);
      expect(pick({ metadata: { tier: 'enterprise' }, body: { model: 'gpt-4o' } })).to.deep.equal(['gamma']);
      expect(pick({ metadata: { tier: 'pro' } })).to.deep.equal(['beta']);
      expect(pick({ metadata: { tier: 'free' }, body: { model: 'gpt-4o' } })).to.deep.equal(['beta']);
      expect(pick({ metadata: { tier: 'free' }, body: { model: 'mini' } })).to.deep.equal(['alpha']);
      expect(pick({ body: { model: 'mini' } })).to.deep.equal(['alpha']);
    });

    it('routes on url.pathname and deep body paths', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config: ConfigNode = {
        strategy: {
          mode: 'conditional',
          conditions: [
            { query: { 'url.pathname': { $regex: '/embeddings$' } }, then: 'emb' },
            { query: { 'params.messages.0.role': 'system', 'params.messages.0.content': { $regex: 'json', $options: 'i' } }, then: 'json' },
          ],
          default: 'chat',
        },
        targets: [leaf('chat', 'alpha'), leaf('emb', 'beta'), leaf('json', 'gamma')],
      };
      expect(plan(kernel, config, { path: '/v1/embeddings', body: { input: 'x' } }).targets[0]!.provider).to.equal('beta');
      const sys = {
        messages: [
          { role: 'system', content: 'Answer in JSON' },
          { role: 'user', content: 'hi' },
        ],
      };
      expect(plan(kernel, config, { body: sys }).targets[0]!.provider).to.equal('gamma');
      expect(plan(kernel, config, { body: { messages: [{ role: 'user', content: 'json' }] } }).targets[0]!.provider).to.equal('alpha');
    });

    it('no match and no default → 400 invalid_config saying so', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config = tiered();
      delete config.strategy!.default;
      const err = thrown(() => plan(kernel, config, { metadata: { tier: 'free' } }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.conditions' });
      expect(err.message).to.match(/no condition matched/);
      expect(err.message).to.match(/no default/);
      // A default alone (no conditions) always selects it.
      const onlyDefault = { strategy: { mode: 'conditional', default: 'b' }, targets: [leaf('a', 'alpha'), leaf('b', 'beta')] };
      expect(plan(kernel, onlyDefault).targets[0]!.provider).to.equal('beta');
    });

    it('a then or default naming no target → 400 naming it (checked when the config is first seen, matched or not)', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      let config = tiered();
      config.strategy!.conditions![1]!.then = 'medium';
      let err = thrown(() => plan(kernel, config, { metadata: { tier: 'enterprise' } }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.conditions[1].then' });
      expect(err.message).to.include('"medium"');
      expect(err.message).to.include('"small", "mid", "big"');
      config = tiered();
      config.strategy!.default = 'tiny';
      err = thrown(() => plan(kernel, config, { metadata: { tier: 'enterprise' } }));
      expect(err).to.include({ status: 400, param: 'config.strategy.default' });
      expect(err.message).to.include('"tiny"');
    });

    it('an unknown operator or a bad $regex → 400 naming config...strategy.conditions[i]', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config = tiered();
      config.strategy!.conditions![1]!.query = { 'metadata.tier': { $like: 'pro%' } };
      let err = thrown(() => plan(kernel, config, { metadata: { tier: 'enterprise' } }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.conditions[1]' });
      expect(err.message).to.include('config.strategy.conditions[1].query["metadata.tier"].$like');
      config.strategy!.conditions![1]!.query = { 'params.model': { $regex: '(' } };
      err = thrown(() => plan(kernel, config));
      expect(err).to.include({ status: 400, param: 'config.strategy.conditions[1]' });
      expect(err.message).to.match(/not a valid regular expression/);
      config.strategy!.conditions![1] = 'pro' as never;
      err = thrown(() => plan(kernel, config));
      expect(err).to.include({ status: 400, param: 'config.strategy.conditions[1]' });
    });

    it('names the nested path of the node in errors', async () => {
      const kernel = await kernelWithAllStrategies();
      const config: ConfigNode = { strategy: { mode: 'fallback' }, targets: [{ provider: 'delta' }, tiered()] };
      config.targets![1]!.strategy!.conditions![0]!.query = { 'metadata.tier': { $regex: '[' } };
      const err = thrown(() => plan(kernel, config));
      expect(err).to.include({ status: 400, param: 'config.targets[1].strategy.conditions[0]' });
    });

    it('takes the first target of a name when names repeat (as Portkey does)', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config = { strategy: { mode: 'conditional', default: 'x' }, targets: [leaf('x', 'alpha'), leaf('x', 'beta')] };
      expect(plan(kernel, config).targets[0]!.path).to.equal('config.targets[0]');
    });

    it('compiles a node’s conditions once per config object', async () => {
      const config = tiered();
      const a = compileConditional(config, 'config');
      expect(compileConditional({ ...config }, 'config')).to.equal(a); // inherit() makes shallow copies: same strategy, same targets
      expect(compileConditional(tiered(), 'config')).to.not.equal(a);
    });

    it('plans nothing when the selected target is unavailable (no silent switch to the default)', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      kernel.apiFor('test-availability').register.availabilityCheck((t) => t.provider !== 'gamma');
      const err = thrown(() => plan(kernel, tiered(), { metadata: { tier: 'enterprise' } }));
      expect(err).to.include({ status: 503, code: 'no_available_target' });
    });

    it('folds inherited policy into the selected leaf', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const config: ConfigNode = {
        ...tiered(),
        override_params: { model: 'root', max_tokens: 5 },
        retry: { attempts: 4 },
        request_timeout: 321,
        custom_host: 'http://127.0.0.1:5/v1',
      };
      config.targets![2] = leaf('big', 'gamma', { override_params: { model: 'huge' }, custom_host: 'http://127.0.0.1:6/v1' });
      const [t] = plan(kernel, config, { metadata: { tier: 'enterprise' } }).targets;
      expect(t!.node).to.deep.include({ override_params: { model: 'huge', max_tokens: 5 }, retry: { attempts: 4 }, request_timeout: 321 });
      expect(t!.baseURL).to.equal('http://127.0.0.1:6/v1');
      const [s] = plan(kernel, config).targets;
      expect(s!.baseURL).to.equal('http://127.0.0.1:5/v1');
      expect(s!.node.override_params).to.deep.equal({ model: 'root', max_tokens: 5 });
    });
  });

  it('nests three deep across modes: conditional → fallback → loadbalance → single', async () => {
    const kernel = await kernelWithAllStrategies();
    const config: ConfigNode = {
      strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.region': { $in: ['eu', 'uk'] } }, then: 'eu' }], default: 'us' },
      request_timeout: 900,
      targets: [
        {
          name: 'eu',
          strategy: { mode: 'fallback', on_status_codes: [429, 503] },
          override_params: { model: 'eu-model' },
          targets: [
            {
              strategy: { mode: 'loadbalance' },
              targets: [
                { provider: 'alpha', weight: 0 },
                { strategy: { mode: 'single' }, targets: [{ provider: 'beta' }, { provider: 'gamma' }] },
              ],
            },
            { provider: 'delta', request_timeout: 50 },
          ],
        },
        { name: 'us', provider: 'epsilon' },
      ],
    };
    const eu = plan(kernel, config, { metadata: { region: 'uk' } }).targets;
    expect(paths(eu)).to.deep.equal(['config.targets[0].targets[0].targets[1].targets[0]', 'config.targets[0].targets[1]']);
    expect(eu.map((t) => t.fallbackOn)).to.deep.equal([
      [429, 503],
      [429, 503],
    ]);
    expect(eu.map((t) => t.node.request_timeout)).to.deep.equal([900, 50]);
    expect(eu.map((t) => t.node.override_params)).to.deep.equal([{ model: 'eu-model' }, { model: 'eu-model' }]);
    expect(plan(kernel, config, { metadata: { region: 'us' } }).targets.map((t) => t.provider)).to.deep.equal(['epsilon']);
    expect(plan(kernel, config).targets.map((t) => t.provider)).to.deep.equal(['epsilon']);
  });

  describe('$regex on the linear-time engine (@waygate/safe-regex)', () => {
    const kernel = newKernel();
    const onRegex = (pattern: string, key = 'metadata.x'): ConfigNode => ({
      strategy: { mode: 'conditional', conditions: [{ query: { [key]: { $regex: pattern } }, then: 'hit' }], default: 'miss' },
      targets: [leaf('hit', 'alpha'), leaf('miss', 'beta')],
    });
    const pick = (router: ConditionalRouter, config: ConfigNode, init: Parameters<typeof makeCtx>[2] = {}) =>
      config.targets![router.selectIndex(config, makeCtx(kernel, config, init), 'config')]!.name;

    it('a catastrophic pattern in a request config finishes (RegExp would backtrack for ages)', () => {
      const router = new ConditionalRouter();
      expect(pick(router, onRegex('^(a+)+$'), { metadata: { x: `${'a'.repeat(60)}!` } })).to.equal('miss');
      expect(pick(router, onRegex('^(a|a)*$'), { metadata: { x: 'a'.repeat(60) } })).to.equal('hit');
    });

    it('a pattern RE2 refuses, or one over the limits, is a 400 naming the operator inside the condition', () => {
      const router = new ConditionalRouter({ regex: { maxLength: 20, maxProgramSize: 2000 } });
      let err = thrown(() => router.compile(onRegex('(a)\\1'), 'config'));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.conditions[0]' });
      expect(err.message).to.include(
        'config.strategy.conditions[0].query["metadata.x"].$regex: the pattern is not supported by the linear-time regex engine',
      );
      expect(err.message).to.match(/backreferences/);
      err = thrown(() => router.compile(onRegex('^gpt(?=-4)'), 'config'));
      expect(err.message).to.match(/\$regex: the pattern is not supported .*lookahead/);
      err = thrown(() => router.compile(onRegex('x'.repeat(21)), 'config'));
      expect(err.message).to.match(/\$regex: the pattern is longer than 20 characters \(it has 21\)/);
      err = thrown(() => new ConditionalRouter({ regex: { maxLength: 1000, maxProgramSize: 100 } }).compile(onRegex('a{200}'), 'config'));
      expect(err.message).to.match(/\$regex: the pattern is too complex/);
    });

    it("a request config's regex work is bounded per request: past regexWorkLimit, a 400 naming the condition", () => {
      const router = new ConditionalRouter({ regexWorkLimit: 50_000 });
      const config = onRegex('secret', 'params.note');
      expect(pick(router, config, { body: { note: 'no secret here'.repeat(10) } })).to.equal('hit');
      const err = thrown(() => pick(router, config, { body: { note: 'x'.repeat(100_000) } }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.conditions[0]' });
      expect(err.message).to.match(/query\["params.note"\]\.\$regex: matching this value is over the regex work limit of this request/);
      // The budget is per request: the next one starts afresh.
      expect(pick(router, config, { body: { note: 'a secret' } })).to.equal('hit');
    });

    it("the config file's conditions may opt in to JavaScript regexes (regexEngine), unmetered; a request's never", () => {
      const file = onRegex('^gpt(?!-3)', 'params.model');
      const router = new ConditionalRouter({ regexEngine: 'javascript', regexWorkLimit: 1 }, file);
      expect(pick(router, file, { body: { model: 'gpt-4o' } })).to.equal('hit');
      expect(pick(router, file, { body: { model: 'gpt-3.5' } })).to.equal('miss');
      // The same config as a request would send it (a copy, parsed from JSON): RE2, so a 400.
      const sent = JSON.parse(JSON.stringify(file)) as ConfigNode;
      expect(thrown(() => router.compile(sent, 'config')).message).to.match(/\$regex: the pattern is not supported by the linear-time regex engine/);
      // The file's RE2 conditions are not metered either; a request's are.
      const file2 = onRegex('^gpt', 'params.model');
      const router2 = new ConditionalRouter({ regexWorkLimit: 1 }, file2);
      expect(pick(router2, file2, { body: { model: 'gpt-4o' } })).to.equal('hit');
      expect(thrown(() => pick(router2, JSON.parse(JSON.stringify(file2)), { body: { model: 'gpt-4o' } })).message).to.match(/work limit/);
    });

    it('the plugin refuses an unknown regexEngine at start-up', async () => {
      const k = newKernel();
      let err: unknown;
      try {
        await use(k, plugin, { regexEngine: 'pcre' });
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/regexEngine/);
    });
  });

  describe('in a running gateway', () => {
    let gw: Gateway;
    let up: Upstream;
    before(async () => {
      up = await Upstream.start();
      gw = await startGateway({ config: {}, port: 0, host: '127.0.0.1', logger: silent });
    });
    after(async () => {
      await gw.close();
      await up.close();
    });
    beforeEach(() => up.reset());

    const config = (): ConfigNode => ({
      strategy: {
        mode: 'conditional',
        conditions: [
          { query: { 'metadata.tier': 'pro' }, then: 'pro' },
          { query: { 'params.temperature': { $gt: 1 } }, then: 'wild' },
        ],
      },
      targets: [up.leaf('free'), up.leaf('pro'), up.leaf('wild')],
    });

    it('routes by the metadata header (either dialect) and by the body', async () => {
      let res = await chat(gw.url, config(), { 'x-waygate-metadata': JSON.stringify({ tier: 'pro' }) });
      expect(res.status).to.equal(200);
      expect(res.json.model).to.equal('pro');
      res = await chat(gw.url, config(), { 'x-portkey-metadata': JSON.stringify({ tier: 'pro' }) });
      expect(res.json.model).to.equal('pro');
      res = await chat(gw.url, config(), {}, { model: 'm', temperature: 1.5, messages: [] });
      expect(res.json.model).to.equal('wild');
      expect(up.hits).to.deep.equal(['pro', 'pro', 'wild']);
    });

    it('answers 400 when nothing matches and there is no default, without calling an upstream', async () => {
      const res = await chat(gw.url, config(), { 'x-waygate-metadata': JSON.stringify({ tier: 'free' }) });
      expect(res.status).to.equal(400);
      expect(res.json.error.code).to.equal('invalid_config');
      expect(res.json.error.message).to.match(/no condition matched/);
      expect(up.hits).to.deep.equal([]);
    });
  });
});
