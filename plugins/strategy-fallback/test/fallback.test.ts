import { expect } from 'chai';
import { GatewayError, OnErrorStage, startGateway } from '@waygate/core';
import type { ConfigNode, Gateway, RequestContext } from '@waygate/core';
import plugin, { fallbackDecision, fallbackStrategy } from '../src/index.js';
import { Upstream, chat, kernelOwned, kernelWithAllStrategies, strategyModes, newKernel, paths, plan, silent, thrown, use } from './harness.js';

function upstreamError(status: number): GatewayError {
  return new GatewayError('upstream_error', status, `status ${status}`, { upstream: { status }, retryable: status >= 500 });
}

const leaf = (provider: string, extra: ConfigNode = {}): ConfigNode => ({ provider, ...extra });

describe('@waygate/strategy-fallback', () => {
  it('has a strategy manifest with its package name, version and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/strategy-fallback', version: '1.0.0', kind: 'strategy', core: '^1.0.0' });
    expect(fallbackStrategy.mode).to.equal('fallback');
  });

  it('registers mode "fallback" and taps onError at OnErrorStage.FALLBACK', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(strategyModes(kernel)).to.deep.equal(['fallback']);
    const taps = kernel.hooks.onError.taps.filter((t) => t.name === '@waygate/strategy-fallback');
    expect(taps).to.have.length(1);
    expect(taps[0]!.stage).to.equal(OnErrorStage.FALLBACK);
  });

  describe('planning', () => {
    it('plans every target in order, each with the node on_status_codes as fallbackOn', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, {
        strategy: { mode: 'fallback', on_status_codes: [429, 503] },
        targets: [leaf('alpha'), leaf('beta'), leaf('gamma')],
      });
      expect(paths(targets)).to.deep.equal(['config.targets[0]', 'config.targets[1]', 'config.targets[2]']);
      expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'beta', 'gamma']);
      for (const t of targets) expect(t.fallbackOn).to.deep.equal([429, 503]);
    });

    it('leaves fallbackOn undefined (any failure moves on) without on_status_codes, and ignores weights', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, { strategy: { mode: 'fallback' }, targets: [leaf('alpha', { weight: 0 }), leaf('beta')] });
      expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'beta']);
      for (const t of targets) expect(t.fallbackOn).to.equal(undefined);
    });

    it('keeps a deeper fallback’s codes; the deeper chain’s last target takes the enclosing codes (Portkey: the inner chain returns its last answer to the outer one)', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, {
        strategy: { mode: 'fallback', on_status_codes: [429] },
        targets: [{ strategy: { mode: 'fallback', on_status_codes: [500] }, targets: [leaf('alpha'), leaf('beta')] }, leaf('gamma')],
      });
      expect(paths(targets)).to.deep.equal(['config.targets[0].targets[0]', 'config.targets[0].targets[1]', 'config.targets[1]']);
      expect(targets.map((t) => t.fallbackOn)).to.deep.equal([[500], [429], [429]]);
    });

    it('a deeper fallback without codes keeps "any failure" for its own targets', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, {
        strategy: { mode: 'fallback', on_status_codes: [429] },
        targets: [{ strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('beta')] }, leaf('gamma')],
      });
      expect(targets.map((t) => t.fallbackOn)).to.deep.equal([undefined, [429], [429]]);
    });

    it('three fallbacks deep: each target keeps the innermost chain’s codes that still has something after it', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, {
        strategy: { mode: 'fallback', on_status_codes: [501] },
        targets: [
          leaf('alpha'),
          {
            strategy: { mode: 'fallback', on_status_codes: [502] },
            targets: [leaf('beta'), { strategy: { mode: 'fallback', on_status_codes: [503] }, targets: [leaf('gamma'), leaf('delta')] }],
          },
        ],
      });
      expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'beta', 'gamma', 'delta']);
      expect(targets.map((t) => t.fallbackOn)).to.deep.equal([[501], [502], [503], [501]]);
    });

    it('skips a target that is unavailable (an open circuit) and plans the rest', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      kernel.apiFor('test-availability').register.availabilityCheck((t) => t.provider !== 'beta');
      const { targets } = plan(kernel, { strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('beta'), leaf('gamma')] });
      expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'gamma']);
      kernel.apiFor('test-availability').register.availabilityCheck(() => false);
      const err = thrown(() => plan(kernel, { strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('gamma')] }));
      expect(err).to.include({ status: 503, code: 'no_available_target' });
    });

    it('folds inherited policy down the tree: override_params merge level by level, child wins; retry, request_timeout, custom_host inherited unless set', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      const { targets } = plan(kernel, {
        strategy: { mode: 'fallback' },
        override_params: { model: 'root', temperature: 0, top_p: 1 },
        retry: { attempts: 3, on_status_codes: [429] },
        request_timeout: 1000,
        custom_host: 'http://127.0.0.1:1/v1',
        targets: [
          {
            strategy: { mode: 'fallback' },
            override_params: { model: 'mid', top_p: 0.5 },
            request_timeout: 500,
            targets: [
              leaf('alpha', { override_params: { model: 'leaf' } }),
              leaf('beta', { retry: { attempts: 0 }, custom_host: 'http://127.0.0.1:2/v1' }),
            ],
          },
          leaf('gamma'),
        ],
      });
      const [a, b, c] = targets.map((t) => t.node);
      expect(a!.override_params).to.deep.equal({ model: 'leaf', temperature: 0, top_p: 0.5 });
      expect(b!.override_params).to.deep.equal({ model: 'mid', temperature: 0, top_p: 0.5 });
      expect(c!.override_params).to.deep.equal({ model: 'root', temperature: 0, top_p: 1 });
      expect([a!.request_timeout, b!.request_timeout, c!.request_timeout]).to.deep.equal([500, 500, 1000]);
      expect([a!.retry, b!.retry, c!.retry]).to.deep.equal([
        { attempts: 3, on_status_codes: [429] },
        { attempts: 0 },
        { attempts: 3, on_status_codes: [429] },
      ]);
      expect(targets.map((t) => t.baseURL)).to.deep.equal(['http://127.0.0.1:1/v1', 'http://127.0.0.1:2/v1', 'http://127.0.0.1:1/v1']);
    });

    it('refuses a node without targets, and on_status_codes that are not status codes, with a 400 naming the key', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      let err = thrown(() => plan(kernel, { strategy: { mode: 'fallback' }, targets: [] }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.targets' });
      err = thrown(() => plan(kernel, { strategy: { mode: 'fallback', on_status_codes: ['429'] as unknown as number[] }, targets: [leaf('alpha')] }));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.on_status_codes' });
    });

    it('nests three deep across modes: fallback → loadbalance → conditional, with fallbackOn on every planned target', async () => {
      const kernel = await kernelWithAllStrategies();
      const config: ConfigNode = {
        strategy: { mode: 'fallback', on_status_codes: [500, 503] },
        retry: { attempts: 1 },
        targets: [
          {
            strategy: { mode: 'loadbalance' },
            targets: [
              { weight: 0, provider: 'alpha' },
              {
                strategy: { mode: 'conditional', conditions: [{ query: { 'params.model': { $regex: '^gpt-4' } }, then: 'big' }], default: 'small' },
                override_params: { max_tokens: 10 },
                targets: [
                  { name: 'small', provider: 'beta' },
                  { name: 'big', provider: 'gamma', override_params: { max_tokens: 99 } },
                ],
              },
            ],
          },
          { provider: 'delta' },
        ],
      };
      const big = plan(kernel, config, { body: { model: 'gpt-4o' } }).targets;
      expect(big.map((t) => t.provider)).to.deep.equal(['gamma', 'delta']);
      expect(big[0]!.path).to.equal('config.targets[0].targets[1].targets[1]');
      expect(big[0]!.node.override_params).to.deep.equal({ max_tokens: 99 });
      expect(big[0]!.node.retry).to.deep.equal({ attempts: 1 });
      expect(big.map((t) => t.fallbackOn)).to.deep.equal([
        [500, 503],
        [500, 503],
      ]);
      const small = plan(kernel, config, { body: { model: 'mini' } }).targets;
      expect(small.map((t) => t.provider)).to.deep.equal(['beta', 'delta']);
    });
  });

  describe('onError decision', () => {
    async function planned(config: ConfigNode): Promise<{ ctx: RequestContext; decide: (status: number, index: number) => Promise<unknown> }> {
      const kernel = newKernel();
      await use(kernel, plugin);
      // The core's default (fail) is tapped by the kernel itself at CORE_DEFAULT.
      const { ctx } = plan(kernel, config);
      return {
        ctx,
        decide: async (status, index) => {
          kernelOwned(ctx).targetIndex = index;
          kernelOwned(ctx).target = ctx.plan!.targets[index];
          return kernel.hooks.onError.promise(upstreamError(status), ctx);
        },
      };
    }

    it('moves on for any failure when the target has no fallbackOn', async () => {
      const { decide } = await planned({ strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('beta'), leaf('gamma')] });
      for (const status of [400, 401, 404, 408, 429, 500, 502, 503]) {
        expect(await decide(status, 0), String(status)).to.deep.equal({ action: 'next' });
        expect(await decide(status, 1), String(status)).to.deep.equal({ action: 'next' });
      }
    });

    it('moves on only for listed statuses; otherwise the core default fails the request', async () => {
      const { decide } = await planned({ strategy: { mode: 'fallback', on_status_codes: [429, 503] }, targets: [leaf('alpha'), leaf('beta')] });
      expect(await decide(429, 0)).to.deep.equal({ action: 'next' });
      expect(await decide(503, 0)).to.deep.equal({ action: 'next' });
      expect(await decide(500, 0)).to.deep.equal({ action: 'fail' });
      expect(await decide(400, 0)).to.deep.equal({ action: 'fail' });
    });

    it('does not move past the last target', async () => {
      const { decide } = await planned({ strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('beta')] });
      expect(await decide(503, 1)).to.deep.equal({ action: 'fail' });
    });

    it('uses the failed target’s own fallbackOn in a nested plan', async () => {
      const { decide } = await planned({
        strategy: { mode: 'fallback', on_status_codes: [429] },
        targets: [{ strategy: { mode: 'fallback', on_status_codes: [500] }, targets: [leaf('alpha'), leaf('beta')] }, leaf('gamma')],
      });
      expect(await decide(500, 0)).to.deep.equal({ action: 'next' }); // alpha → beta (inner chain)
      expect(await decide(429, 0)).to.deep.equal({ action: 'fail' });
      expect(await decide(429, 1)).to.deep.equal({ action: 'next' }); // beta (inner chain done) → gamma (outer chain)
      expect(await decide(500, 1)).to.deep.equal({ action: 'fail' });
    });

    it('returns undefined without a plan, and for a plan of one target', () => {
      const ctx = { targetIndex: 0 } as unknown as RequestContext;
      expect(fallbackDecision(upstreamError(503), ctx)).to.equal(undefined);
      kernelOwned(ctx).plan = { targets: [{ provider: 'alpha', node: {}, path: 'config' }] };
      expect(fallbackDecision(upstreamError(503), ctx)).to.equal(undefined);
    });

    it('defers to an earlier tap (a retry policy at OnErrorStage.RETRY decides first)', async () => {
      const kernel = newKernel();
      await use(kernel, plugin);
      kernel.apiFor('retry-ish').hooks.onError.tap(OnErrorStage.RETRY, (_err, ctx) => (ctx.retryCount < 1 ? { action: 'retry' } : undefined));
      const { ctx } = plan(kernel, { strategy: { mode: 'fallback' }, targets: [leaf('alpha'), leaf('beta')] });
      expect(await kernel.hooks.onError.promise(upstreamError(503), ctx)).to.deep.equal({ action: 'retry' });
      kernelOwned(ctx).retryCount = 1;
      expect(await kernel.hooks.onError.promise(upstreamError(503), ctx)).to.deep.equal({ action: 'next' });
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

    it('falls back on a failure and answers from the next target', async () => {
      up.status.a = 503;
      const res = await chat(gw.url, { strategy: { mode: 'fallback' }, targets: [up.leaf('a'), up.leaf('b'), up.leaf('c')] });
      expect(res.status).to.equal(200);
      expect(res.json.model).to.equal('b');
      expect(up.hits).to.deep.equal(['a', 'b']);
      expect(res.headers.get('x-waygate-target')).to.equal('config.targets[1]');
    });

    it('without on_status_codes moves on for any upstream failure, a 400 too (Portkey: any non-ok answer)', async () => {
      up.status.a = 400;
      up.status.b = 429;
      const res = await chat(gw.url, { strategy: { mode: 'fallback' }, targets: [up.leaf('a'), up.leaf('b'), up.leaf('c')] });
      expect(res.status).to.equal(200);
      expect(up.hits).to.deep.equal(['a', 'b', 'c']);
    });

    it('with on_status_codes stops on a status not listed and returns that answer', async () => {
      up.status.a = 500;
      const res = await chat(gw.url, { strategy: { mode: 'fallback', on_status_codes: [429] }, targets: [up.leaf('a'), up.leaf('b')] });
      expect(res.status).to.equal(500);
      expect(res.json.error.message).to.include('a failed with 500');
      expect(up.hits).to.deep.equal(['a']);
    });

    it('returns the last target’s failure when every target fails', async () => {
      up.status.a = 503;
      up.status.b = 502;
      const res = await chat(gw.url, { strategy: { mode: 'fallback' }, targets: [up.leaf('a'), up.leaf('b')] });
      expect(res.status).to.equal(502);
      expect(up.hits).to.deep.equal(['a', 'b']);
    });

    it('falls back across a nested chain: the inner chain’s last failure goes to the outer chain', async () => {
      up.status.a = 500;
      up.status.b = 429;
      const config = {
        strategy: { mode: 'fallback', on_status_codes: [429] },
        targets: [{ strategy: { mode: 'fallback', on_status_codes: [500] }, targets: [up.leaf('a'), up.leaf('b')] }, up.leaf('c')],
      };
      const res = await chat(gw.url, config);
      expect(res.status).to.equal(200);
      expect(up.hits).to.deep.equal(['a', 'b', 'c']);
    });

    it('does not move on after a gateway error of its own (a target that cannot serve the endpoint)', async () => {
      // perplexity-ai has no embeddings endpoint: the kernel throws a 400 without calling onError.
      const config = { strategy: { mode: 'fallback' }, targets: [{ provider: 'perplexity-ai', api_key: 'k', custom_host: `${up.url}/a` }, up.leaf('b')] };
      const res = await chat(gw.url, config, {}, { model: 'e', input: 'x' }, '/v1/embeddings');
      expect(res.status).to.equal(400);
      expect(res.json.error.code).to.equal('unsupported_endpoint');
      expect(up.hits).to.deep.equal([]);
    });
  });
});
