import { expect } from 'chai';
import { AfterResponseStage, GatewayResponse, startGateway, targetKey } from '@waygate/core';
import type { ConfigNode, Gateway, Kernel, PlannedTarget, RequestContext } from '@waygate/core';
import plugin, { LoadBalancer, LoadbalanceOptionsSchema, balancerOf, install } from '../src/index.js';
import {
  Upstream,
  chat,
  kernelOwned,
  kernelWithAllStrategies,
  strategyModes,
  makeCtx,
  newKernel,
  paths,
  plan,
  seeded,
  silent,
  thrown,
  use,
} from './harness.js';

const leaf = (provider: string, extra: ConfigNode = {}): ConfigNode => ({ provider, ...extra });
const lb = (targets: ConfigNode[], strategy: Record<string, unknown> = {}): ConfigNode => ({ strategy: { mode: 'loadbalance', ...strategy }, targets });
/** The key a leaf of the fake kernel gets (provider, base URL, no key). */
const keyOf = (provider: string): string => targetKey({ provider, baseURL: `https://${provider}.example/v1`, node: {}, path: '' });

async function kernelWith(balancer: LoadBalancer): Promise<Kernel> {
  const kernel = newKernel();
  install(kernel.apiFor('@waygate/strategy-loadbalance'), balancer);
  return kernel;
}

/** Runs the afterResponse waterfall as the kernel does at the end of a request. */
async function finish(kernel: Kernel, ctx: RequestContext, status = 200): Promise<void> {
  await kernel.hooks.afterResponse.promise(GatewayResponse.json(status, {}), ctx);
}

function counts(targets: PlannedTarget[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of targets) out[t[0]!.provider] = (out[t[0]!.provider] ?? 0) + 1;
  return out;
}

describe('@waygate/strategy-loadbalance', () => {
  it('has a strategy manifest and an options schema with defaults', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/strategy-loadbalance', version: '1.0.0', kind: 'strategy', core: '^1.0.0' });
    expect(LoadbalanceOptionsSchema.parse({})).to.deep.equal({ maxKeys: 10_000, ewmaAlpha: 0.3, staleAfterMs: 30_000, failurePenaltyMs: 5_000 });
    expect(LoadbalanceOptionsSchema.safeParse({ ewmaAlpha: 0 }).success).to.equal(false);
    expect(LoadbalanceOptionsSchema.safeParse({ nope: 1 }).success).to.equal(false);
  });

  it('registers mode "loadbalance" and taps afterResponse twice: release first of all, statistics at AfterResponseStage.USAGE', async () => {
    const kernel = newKernel();
    await use(kernel, plugin);
    expect(strategyModes(kernel)).to.deep.equal(['loadbalance']);
    const stages = kernel.hooks.afterResponse.taps.filter((t) => t.name === '@waygate/strategy-loadbalance').map((t) => t.stage);
    expect(stages).to.deep.equal([AfterResponseStage.RELEASE, AfterResponseStage.USAGE]);
    expect(AfterResponseStage.RELEASE).to.equal(Math.min(...Object.values(AfterResponseStage)));
  });

  describe('weighted (Portkey semantics)', () => {
    it('picks with r = random × Σw and a linear scan (deterministic with an injected random source)', async () => {
      let r = 0;
      const kernel = await kernelWith(new LoadBalancer({ random: () => r }));
      const config = lb([leaf('alpha', { weight: 1 }), leaf('beta', { weight: 3 })]);
      const pick = (x: number) => {
        r = x;
        return plan(kernel, config).targets[0]!.provider;
      };
      expect(pick(0)).to.equal('alpha');
      expect(pick(0.2499)).to.equal('alpha');
      expect(pick(0.25)).to.equal('beta');
      expect(pick(0.9999999)).to.equal('beta');
    });

    it('splits 10,000 picks 1:3 within ±3% (seeded, and with Math.random)', async () => {
      for (const random of [seeded(42), Math.random]) {
        const kernel = await kernelWith(new LoadBalancer({ random }));
        const config = lb([leaf('alpha', { weight: 1 }), leaf('beta', { weight: 3 })]);
        const picks: PlannedTarget[][] = [];
        for (let i = 0; i < 10_000; i++) picks.push(plan(kernel, config).targets);
        const c = counts(picks);
        expect(c.alpha! / 10_000).to.be.closeTo(0.25, 0.03);
        expect(c.beta! / 10_000).to.be.closeTo(0.75, 0.03);
      }
    });

    it('weights default to 1 and fractional weights work (0.7 / 0.3 as in Portkey’s docs)', async () => {
      const kernel = await kernelWith(new LoadBalancer({ random: seeded(7) }));
      let picks: PlannedTarget[][] = [];
      for (let i = 0; i < 9000; i++) picks.push(plan(kernel, lb([leaf('alpha'), leaf('beta'), leaf('gamma')])).targets);
      for (const n of Object.values(counts(picks))) expect(n / 9000).to.be.closeTo(1 / 3, 0.03);
      picks = [];
      for (let i = 0; i < 10_000; i++) picks.push(plan(kernel, lb([leaf('alpha', { weight: 0.7 }), leaf('beta', { weight: 0.3 })])).targets);
      expect(counts(picks).alpha! / 10_000).to.be.closeTo(0.7, 0.03);
    });

    it('never picks a weight of 0', async () => {
      const kernel = await kernelWith(new LoadBalancer({ random: seeded(1) }));
      const config = lb([leaf('alpha', { weight: 0 }), leaf('beta'), leaf('gamma', { weight: 0 })]);
      for (let i = 0; i < 2000; i++) expect(plan(kernel, config).targets[0]!.provider).to.equal('beta');
    });

    it('all weights zero → 400 invalid_config naming <path>.targets', async () => {
      const kernel = await kernelWith(new LoadBalancer());
      let err = thrown(() => plan(kernel, lb([leaf('alpha', { weight: 0 }), leaf('beta', { weight: 0 })])));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.targets' });
      expect(err.message).to.match(/all weights are zero/);
      err = thrown(() => plan(kernel, lb([lb([leaf('alpha', { weight: 0 })], {})])));
      expect(err).to.include({ status: 400, param: 'config.targets[0].targets' });
    });

    it('an unavailable child (open circuit) is dropped and the pick is made again among the rest', async () => {
      // random 0 always picks the first candidate left.
      const kernel = await kernelWith(new LoadBalancer({ random: () => 0 }));
      kernel.apiFor('test-availability').register.availabilityCheck((t) => t.provider !== 'alpha');
      expect(plan(kernel, lb([leaf('alpha'), leaf('beta'), leaf('gamma')])).targets[0]!.provider).to.equal('beta');
      // A weight-0 child is never a stand-in: with only it left, there is nothing to plan (the core answers 503).
      const err = thrown(() => plan(kernel, lb([leaf('alpha'), leaf('beta', { weight: 0 })])));
      expect(err).to.include({ status: 503, code: 'no_available_target' });
    });

    it('refuses an unknown policy, a bad weight, and no targets with a 400 naming the key', async () => {
      const kernel = await kernelWith(new LoadBalancer());
      let err = thrown(() => plan(kernel, lb([leaf('alpha')], { policy: 'round_robin' })));
      expect(err).to.include({ status: 400, code: 'invalid_config', param: 'config.strategy.policy' });
      expect(err.message).to.include('least_latency');
      err = thrown(() => plan(kernel, lb([leaf('alpha'), leaf('beta', { weight: -1 })])));
      expect(err).to.include({ status: 400, param: 'config.targets[1].weight' });
      err = thrown(() => plan(kernel, lb([])));
      expect(err).to.include({ status: 400, param: 'config.targets' });
    });

    it('folds inherited policy into the chosen leaf', async () => {
      const kernel = await kernelWith(new LoadBalancer({ random: () => 0.99 }));
      const { targets } = plan(kernel, {
        strategy: { mode: 'loadbalance' },
        override_params: { model: 'p', temperature: 1 },
        retry: { attempts: 2 },
        request_timeout: 700,
        custom_host: 'http://127.0.0.1:3/v1',
        targets: [leaf('alpha'), leaf('beta', { override_params: { model: 'c' }, request_timeout: 70 })],
      });
      expect(targets[0]!.path).to.equal('config.targets[1]');
      expect(targets[0]!.node).to.deep.include({ override_params: { model: 'c', temperature: 1 }, retry: { attempts: 2 }, request_timeout: 70 });
      expect(targets[0]!.baseURL).to.equal('http://127.0.0.1:3/v1');
    });
  });

  describe('least_latency', () => {
    it('tries untried targets first, then prefers the lowest moving average', async () => {
      const now = 0;
      const balancer = new LoadBalancer({ random: seeded(3), now: () => now });
      const kernel = await kernelWith(balancer);
      const config = lb([leaf('alpha'), leaf('beta'), leaf('gamma')], { policy: 'least_latency' });
      // Three requests: each goes to a target not tried yet (the probe is claimed when it is picked).
      const first = [0, 1, 2].map(() => plan(kernel, config).targets[0]!.provider);
      expect([...first].sort()).to.deep.equal(['alpha', 'beta', 'gamma']);
      balancer.sample(keyOf('alpha'), 300, now);
      balancer.sample(keyOf('beta'), 100, now);
      balancer.sample(keyOf('gamma'), 200, now);
      for (let i = 0; i < 5; i++) expect(plan(kernel, config).targets[0]!.provider).to.equal('beta');
      // beta slows down: the average moves (alpha 0.3), and gamma becomes the fastest.
      for (let i = 0; i < 5; i++) balancer.sample(keyOf('beta'), 1000, now);
      expect(balancer.latency(keyOf('beta'))).to.be.above(200);
      expect(plan(kernel, config).targets[0]!.provider).to.equal('gamma');
    });

    it('blends samples with ewmaAlpha', () => {
      const balancer = new LoadBalancer({ ewmaAlpha: 0.5 });
      balancer.sample('k', 100, 0);
      balancer.sample('k', 200, 0);
      expect(balancer.latency('k')).to.equal(150);
      balancer.sample('k', 50, 0);
      expect(balancer.latency('k')).to.equal(100);
    });

    it('breaks ties by weighted random, and never picks a weight of 0', async () => {
      const balancer = new LoadBalancer({ random: seeded(11), now: () => 0 });
      const kernel = await kernelWith(balancer);
      for (const p of ['alpha', 'beta', 'gamma']) balancer.sample(keyOf(p), 100, 0);
      const config = lb([leaf('alpha', { weight: 1 }), leaf('beta', { weight: 3 }), leaf('gamma', { weight: 0 })], { policy: 'least_latency' });
      const picks: PlannedTarget[][] = [];
      for (let i = 0; i < 4000; i++) picks.push(plan(kernel, config).targets);
      const c = counts(picks);
      expect(c.gamma).to.equal(undefined);
      expect(c.alpha! / 4000).to.be.closeTo(0.25, 0.03);
    });

    it('probes a target again once its average is stale, one request at a time, and the probe’s answer replaces the old average', async () => {
      let now = 0;
      const balancer = new LoadBalancer({ random: () => 0, now: () => now, staleAfterMs: 1000 });
      const kernel = await kernelWith(balancer);
      balancer.sample(keyOf('alpha'), 5000, 0); // slow once
      balancer.sample(keyOf('beta'), 100, 500);
      const config = lb([leaf('alpha'), leaf('beta')], { policy: 'least_latency' });
      now = 600;
      expect(plan(kernel, config).targets[0]!.provider).to.equal('beta');
      now = 1200; // alpha's average is stale: probe it once
      expect(plan(kernel, config).targets[0]!.provider).to.equal('alpha');
      expect(plan(kernel, config).targets[0]!.provider).to.equal('beta');
      balancer.sample(keyOf('alpha'), 50, 1300);
      expect(balancer.latency(keyOf('alpha'))).to.equal(50);
      now = 1300;
      expect(plan(kernel, config).targets[0]!.provider).to.equal('alpha');
    });

    it('learns from the request’s attempts in afterResponse (path mapped back through ctx.plan); failures count as slow', async () => {
      const balancer = new LoadBalancer({ now: () => 0, failurePenaltyMs: 5000 });
      const kernel = await kernelWith(balancer);
      const config = { strategy: { mode: 'loadbalance', policy: 'least_latency' }, targets: [leaf('alpha'), leaf('beta', { weight: 0 })] };
      const { ctx } = plan(kernel, config);
      ctx.plan!.targets.push({ provider: 'beta', baseURL: 'https://beta.example/v1', node: {}, path: 'config.targets[1]' });
      kernelOwned(ctx).attempts.push({ target: 'config.targets[0]', provider: 'alpha', status: 503, error: 'upstream_error', ms: 12 });
      kernelOwned(ctx).attempts.push({ target: 'config.targets[1]', provider: 'beta', status: 200, ms: 80 });
      kernelOwned(ctx).attempts.push({ target: 'config.targets[9]', provider: 'gamma', status: 200, ms: 1 }); // not in the plan: ignored
      await finish(kernel, ctx);
      expect(balancer.latency(keyOf('alpha'))).to.equal(5000);
      expect(balancer.latency(keyOf('beta'))).to.equal(80);
      expect(balancer.latency(keyOf('gamma'))).to.equal(undefined);
      // A client that went away says nothing about the target; a 400 from the upstream is an answer like any other.
      const again = plan(kernel, config).ctx;
      kernelOwned(again).attempts.push({ target: 'config.targets[0]', provider: 'alpha', status: 499, error: 'client_closed_request', ms: 1 });
      await finish(kernel, again);
      expect(balancer.latency(keyOf('alpha'))).to.equal(5000);
    });
  });

  describe('least_inflight and in-flight accounting', () => {
    it('counts a request in flight on its chosen leaf from planning until afterResponse', async () => {
      const balancer = new LoadBalancer({ random: () => 0 });
      const kernel = await kernelWith(balancer);
      const config = lb([leaf('alpha'), leaf('beta')], { policy: 'least_inflight' });
      const a = plan(kernel, config);
      const b = plan(kernel, config);
      const c = plan(kernel, config);
      expect([a, b, c].map((r) => r.targets[0]!.provider)).to.deep.equal(['alpha', 'beta', 'alpha']);
      expect(balancer.inflight(keyOf('alpha'))).to.equal(2);
      expect(balancer.inflight(keyOf('beta'))).to.equal(1);
      await finish(kernel, a.ctx);
      await finish(kernel, c.ctx, 503); // an error response ends the count too
      expect(balancer.inflight(keyOf('alpha'))).to.equal(0);
      expect(plan(kernel, config).targets[0]!.provider).to.equal('alpha');
      await finish(kernel, b.ctx);
      // Releasing twice is harmless.
      await finish(kernel, b.ctx);
      expect(balancer.size.inflight).to.equal(1);
    });

    it('the weighted policy counts in flight too, so least_inflight sees all traffic', async () => {
      const balancer = new LoadBalancer({ random: () => 0 });
      const kernel = await kernelWith(balancer);
      const r = plan(kernel, lb([leaf('alpha'), leaf('beta')]));
      expect(balancer.inflight(keyOf('alpha'))).to.equal(1);
      await finish(kernel, r.ctx);
      expect(balancer.inflight(keyOf('alpha'))).to.equal(0);
    });

    it('nested load balancers count each request once, and undo the picks of children that were not chosen', async () => {
      const balancer = new LoadBalancer({ random: () => 0 });
      const kernel = await kernelWith(balancer);
      const config = lb([lb([leaf('alpha'), leaf('beta')]), lb([leaf('gamma'), leaf('delta')], { policy: 'least_inflight' })], {
        policy: 'least_inflight',
      });
      const r1 = plan(kernel, config);
      expect(r1.targets[0]!.provider).to.equal('alpha');
      const all = () => ['alpha', 'beta', 'gamma', 'delta'].map((p) => balancer.inflight(keyOf(p)));
      expect(all()).to.deep.equal([1, 0, 0, 0]); // gamma was picked inside the other child, then let go
      const r2 = plan(kernel, config);
      expect(r2.targets[0]!.provider).to.equal('gamma');
      expect(all()).to.deep.equal([1, 0, 1, 0]);
      expect(balancer.countedFor(r2.ctx)!.size).to.equal(1);
      await finish(kernel, r1.ctx);
      await finish(kernel, r2.ctx);
      expect(all()).to.deep.equal([0, 0, 0, 0]);
      expect(balancer.size.inflight).to.equal(0);
    });

    it('matches every increment when planning fails after a pick (the request still ends through afterResponse)', async () => {
      const kernel = await kernelWithAllStrategies();
      const config: ConfigNode = {
        strategy: { mode: 'fallback' },
        targets: [
          lb([leaf('alpha')]),
          { strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.x': 1 }, then: 'a' }] }, targets: [leaf('beta', { name: 'a' })] },
        ],
      };
      const ctx = makeCtx(kernel, config);
      expect(() => kernel.plan(ctx).targets).to.throw(/no condition matched/);
      const counted = balancerOf(kernel)!.countedFor(ctx)!;
      expect(counted.size).to.equal(1);
      await finish(kernel, ctx, 400);
      expect(counted.size).to.equal(0);
    });

    it('keeps its statistics bounded (oldest dropped)', () => {
      const balancer = new LoadBalancer({ maxKeys: 3 });
      for (let i = 0; i < 10; i++) balancer.sample(`k${i}`, i, 0);
      expect(balancer.size.latency).to.equal(3);
      expect(balancer.latency('k0')).to.equal(undefined);
      expect(balancer.latency('k9')).to.equal(9);
    });
  });

  it('nests three deep across modes: loadbalance → fallback → conditional, and weights apply at each level', async () => {
    const kernel = await kernelWithAllStrategies();
    const config: ConfigNode = {
      strategy: { mode: 'loadbalance' },
      override_params: { temperature: 0.5 },
      targets: [
        {
          weight: 3,
          strategy: { mode: 'fallback', on_status_codes: [503] },
          request_timeout: 100,
          targets: [
            {
              strategy: { mode: 'conditional', conditions: [{ query: { 'url.pathname': { $regex: 'embeddings$' } }, then: 'emb' }], default: 'chat' },
              targets: [leaf('alpha', { name: 'chat' }), leaf('beta', { name: 'emb', override_params: { temperature: 0 } })],
            },
            leaf('gamma'),
          ],
        },
        leaf('delta', { weight: 1 }),
      ],
    };
    let fb = 0;
    for (let i = 0; i < 4000; i++) {
      const { targets } = plan(kernel, config);
      if (targets[0]!.provider === 'delta') continue;
      fb++;
      expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'gamma']);
      expect(targets.map((t) => t.fallbackOn)).to.deep.equal([[503], [503]]);
      expect(targets[0]!.node).to.deep.include({ request_timeout: 100, override_params: { temperature: 0.5 } });
    }
    expect(fb / 4000).to.be.closeTo(0.75, 0.03);
    for (let i = 0; i < 50; i++) {
      const { targets } = plan(kernel, config, { path: '/v1/embeddings' });
      if (targets[0]!.provider === 'delta') continue;
      expect(paths(targets)).to.deep.equal(['config.targets[0].targets[0].targets[1]', 'config.targets[0].targets[1]']);
      expect(targets[0]!.node.override_params).to.deep.equal({ temperature: 0 });
    }
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

    it('ends every in-flight count, failed requests included, and learns latencies from real attempts', async () => {
      up.status.b = 503;
      up.delayMs.a = 100;
      up.delayMs.b = 100;
      const config = lb([up.leaf('a', { weight: 1 }), up.leaf('b', { weight: 1 })], { policy: 'least_inflight' });
      const balancer = balancerOf(gw.kernel)!;
      const key = (n: string) => targetKey({ provider: 'openai', baseURL: `${up.url}/${n}`, apiKey: `sk-${n}`, node: {}, path: '' });
      const pending = Array.from({ length: 40 }, () => chat(gw.url, config));
      let midway = 0;
      for (let i = 0; i < 50 && midway === 0; i++) {
        await new Promise((r) => setTimeout(r, 5));
        midway = balancer.inflight(key('a')) + balancer.inflight(key('b'));
      }
      const results = await Promise.all(pending);
      expect(midway).to.be.above(0);
      const statuses = results.map((r) => r.status);
      // least_inflight spreads concurrent requests evenly.
      expect(statuses.filter((s) => s === 200).length).to.be.within(15, 25);
      expect(statuses.filter((s) => s === 503).length).to.be.within(15, 25);
      expect(up.hits.length).to.equal(40);
      expect(balancer.inflight(key('a'))).to.equal(0);
      expect(balancer.inflight(key('b'))).to.equal(0);
      expect(balancer.latency(key('a'))).to.be.within(90, 2000);
      expect(balancer.latency(key('b'))).to.be.at.least(5000); // failures count as the penalty
    });

    it('least_latency moves traffic to the faster target once both have been measured', async () => {
      up.delayMs.slow = 60;
      const config = lb([up.leaf('slow'), up.leaf('fast')], { policy: 'least_latency' });
      await chat(gw.url, config);
      await chat(gw.url, config);
      expect([...up.hits].sort()).to.deep.equal(['fast', 'slow']);
      up.hits.length = 0;
      for (let i = 0; i < 5; i++) expect((await chat(gw.url, config)).json.model).to.equal('fast');
      expect(up.hits).to.deep.equal(['fast', 'fast', 'fast', 'fast', 'fast']);
    });

    it('all weights zero → 400 over HTTP', async () => {
      const res = await chat(gw.url, lb([up.leaf('a', { weight: 0 })]));
      expect(res.status).to.equal(400);
      expect(res.json.error).to.include({ code: 'invalid_config', param: 'config.targets' });
      expect(up.hits).to.deep.equal([]);
    });
  });
});
