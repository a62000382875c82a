import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import plugin, { singleStrategy } from '../src/index.js';
import { Upstream, chat, kernelWithAllStrategies, strategyModes, newKernel, paths, plan, silent, thrown, use } from './harness.js';

describe('@waygate/strategy-single', () => {
  it('has a strategy manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/strategy-single', version: '1.0.0', kind: 'strategy', core: '^1.0.0' });
    expect(singleStrategy.mode).to.equal('single');
  });

  it('registers mode "single" in setup()', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(strategyModes(kernel)).to.deep.equal(['single']);
  });

  it('always plans the first target and never looks at the others', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    for (let i = 0; i < 20; i++) {
      // The second target names a provider nobody registered: expanding it would throw.
      const { targets } = plan(kernel, { strategy: { mode: 'single' }, targets: [{ provider: 'alpha' }, { provider: 'nope' }] });
      expect(paths(targets)).to.deep.equal(['config.targets[0]']);
      expect(targets[0]!.provider).to.equal('alpha');
      expect(targets[0]!.baseURL).to.equal('https://alpha.example/v1');
    }
  });

  it('ignores weights (a weight of 0 on the first target does not matter)', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    const { targets } = plan(kernel, { strategy: { mode: 'single' }, targets: [{ provider: 'beta', weight: 0 }, { provider: 'alpha' }] });
    expect(targets.map((t) => t.provider)).to.deep.equal(['beta']);
  });

  it('folds inherited policy into the leaf: override_params merge (child wins), retry, request_timeout, custom_host', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    const { targets } = plan(kernel, {
      strategy: { mode: 'single' },
      override_params: { model: 'parent', temperature: 0.1 },
      retry: { attempts: 2 },
      request_timeout: 1234,
      custom_host: 'http://127.0.0.1:9/v1',
      targets: [{ provider: 'alpha', override_params: { model: 'child' } }],
    });
    const node = targets[0]!.node;
    expect(node.override_params).to.deep.equal({ model: 'child', temperature: 0.1 });
    expect(node.retry).to.deep.equal({ attempts: 2 });
    expect(node.request_timeout).to.equal(1234);
    expect(targets[0]!.baseURL).to.equal('http://127.0.0.1:9/v1');
  });

  it('plans nothing when its first target is unavailable (an open circuit): the core answers 503', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    kernel.apiFor('test-availability').register.availabilityCheck((t) => t.provider !== 'alpha');
    const err = thrown(() => plan(kernel, { strategy: { mode: 'single' }, targets: [{ provider: 'alpha' }, { provider: 'beta' }] }));
    expect(err).to.include({ status: 503, code: 'no_available_target' });
  });

  it('refuses a node without targets with a 400 naming <path>.targets', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    const err = thrown(() => plan(kernel, { strategy: { mode: 'single' }, targets: [] }));
    expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.targets' });
  });

  it('nests three deep across modes: single → loadbalance → conditional → fallback', async () => {
    const kernel = await kernelWithAllStrategies();
    const config = {
      strategy: { mode: 'single' },
      override_params: { temperature: 0 },
      targets: [
        {
          strategy: { mode: 'loadbalance' },
          targets: [
            { provider: 'alpha', weight: 0 },
            {
              strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.tier': 'pro' }, then: 'pro' }], default: 'free' },
              weight: 1,
              targets: [
                { name: 'free', provider: 'beta' },
                {
                  name: 'pro',
                  strategy: { mode: 'fallback', on_status_codes: [429] },
                  request_timeout: 50,
                  targets: [{ provider: 'gamma' }, { provider: 'delta' }],
                },
              ],
            },
          ],
        },
        { provider: 'epsilon' },
      ],
    };
    const pro = plan(kernel, config, { metadata: { tier: 'pro' } }).targets;
    expect(paths(pro)).to.deep.equal(['config.targets[0].targets[1].targets[1].targets[0]', 'config.targets[0].targets[1].targets[1].targets[1]']);
    expect(pro.map((t) => t.fallbackOn)).to.deep.equal([[429], [429]]);
    expect(pro.map((t) => t.node.request_timeout)).to.deep.equal([50, 50]);
    expect(pro[0]!.node.override_params).to.deep.equal({ temperature: 0 });
    const free = plan(kernel, config, { metadata: { tier: 'free' } }).targets;
    expect(paths(free)).to.deep.equal(['config.targets[0].targets[1].targets[0]']);
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

    it('is loaded by the embedded default and sends every request to the first target only', async () => {
      expect(strategyModes(gw.kernel)).to.include('single');
      const config = { strategy: { mode: 'single' }, targets: [up.leaf('a'), up.leaf('b')] };
      for (let i = 0; i < 3; i++) {
        const res = await chat(gw.url, config);
        expect(res.status).to.equal(200);
        expect(res.json.model).to.equal('a');
      }
      expect(up.hits).to.deep.equal(['a', 'a', 'a']);
      expect(gw.kernel.plugins.map((p) => p.name)).to.include('@waygate/strategy-single');
    });

    it('does not move on when its target fails (single has nothing to fall back to)', async () => {
      up.reset();
      up.status.a = 503;
      const res = await chat(gw.url, { strategy: { mode: 'single' }, targets: [up.leaf('a'), up.leaf('b')] });
      expect(res.status).to.equal(503);
      expect(up.hits).to.deep.equal(['a']);
    });
  });
});
