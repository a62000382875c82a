import { expect } from 'chai';
import { inherit, bearerKey, planRoute } from '../src/routing.js';
import { Kernel } from '../src/kernel.js';
import { configFromObject } from '../src/config.js';
import { SelectTargetStage } from '../src/hooks.js';
import { ErrorCode } from '../src/errors.js';
import { makeCtx, newKernel, paths, silent, thrown } from '../src/testing/index.js';
import type { RequestContext } from '../src/context.js';
import type { ConfigNode, PlannedTarget } from '../src/types.js';

describe('routing helpers', () => {
  it('inherits policy keys unless the child sets its own, and merges override_params child-first', () => {
    const parent = {
      strategy: { mode: 'fallback' },
      retry: { attempts: 3 },
      request_timeout: 1000,
      custom_host: 'http://a',
      override_params: { model: 'p', temperature: 0 },
    };
    const child = { provider: 'openai', request_timeout: 50, override_params: { model: 'c' } };
    const merged = inherit(parent, child);
    expect(merged).to.deep.include({ provider: 'openai', retry: { attempts: 3 }, request_timeout: 50, custom_host: 'http://a' });
    expect(merged.override_params).to.deep.equal({ model: 'c', temperature: 0 });
    expect(merged).to.not.have.property('strategy');
    expect(child).to.not.have.property('retry');
  });

  it('reads a bearer key case-insensitively and ignores other schemes', () => {
    const ctx = (h: Record<string, string>) => ({ headers: h }) as unknown as RequestContext;
    expect(bearerKey(ctx({ authorization: 'Bearer sk-1' }))).to.equal('sk-1');
    expect(bearerKey(ctx({ authorization: 'bearer  sk-2 ' }))).to.equal('sk-2');
    expect(bearerKey(ctx({ authorization: 'Basic abc' }))).to.equal(undefined);
    expect(bearerKey(ctx({}))).to.equal(undefined);
  });

  it("falls back to x-api-key (Anthropic's SDKs) when there is no bearer token", () => {
    const ctx = (h: Record<string, string>) => ({ headers: h }) as unknown as RequestContext;
    expect(bearerKey(ctx({ 'x-api-key': 'sk-ant-1' }))).to.equal('sk-ant-1');
    expect(bearerKey(ctx({ 'x-api-key': ' sk-ant-2 ' }))).to.equal('sk-ant-2');
    expect(bearerKey(ctx({ authorization: 'Bearer sk-1', 'x-api-key': 'sk-ant-1' })), 'the bearer wins').to.equal('sk-1');
    expect(bearerKey(ctx({ authorization: 'Basic abc', 'x-api-key': 'sk-ant-3' }))).to.equal('sk-ant-3');
    expect(bearerKey(ctx({ 'x-api-key': '  ' }))).to.equal(undefined);
  });
});

describe('planRoute', () => {
  const leaf = (provider: string, extra: ConfigNode = {}): ConfigNode => ({ provider, api_key: `sk-${provider}`, ...extra });
  const children = (node: ConfigNode) => (node.targets ?? []).map((_, i) => i);

  /** A kernel with two strategies from two plugins: `ordered` (every child in order) and `reverse`. */
  function strategies(): { kernel: Kernel; calls: Array<{ mode: string; path: string; node: ConfigNode }> } {
    const kernel = newKernel();
    const calls: Array<{ mode: string; path: string; node: ConfigNode }> = [];
    kernel
      .apiFor('strategy-ordered')
      .hooks.selectTarget.for('ordered')
      .tap(SelectTargetStage.STRATEGY, (node, _ctx, expand, path) => {
        calls.push({ mode: 'ordered', path, node });
        return children(node).flatMap(expand);
      });
    kernel
      .apiFor('strategy-reverse')
      .hooks.selectTarget.for('reverse')
      .tap(SelectTargetStage.STRATEGY, (node, _ctx, expand, path) => {
        calls.push({ mode: 'reverse', path, node });
        return children(node).reverse().flatMap(expand);
      });
    return { kernel, calls };
  }

  it('nests modes of different plugins through expand(), folding inherited policy into each child', () => {
    const { kernel, calls } = strategies();
    const config: ConfigNode = {
      strategy: { mode: 'ordered' },
      request_timeout: 500,
      override_params: { temperature: 0 },
      targets: [
        leaf('alpha'),
        {
          strategy: { mode: 'reverse' },
          retry: { attempts: 2 },
          targets: [leaf('beta'), leaf('gamma', { request_timeout: 50, override_params: { temperature: 1 } })],
        },
      ],
    };
    const targets = planRoute(kernel, makeCtx(kernel, config));
    expect(paths(targets)).to.deep.equal(['config.targets[0]', 'config.targets[1].targets[1]', 'config.targets[1].targets[0]']);
    expect(targets.map((t) => t.provider)).to.deep.equal(['alpha', 'gamma', 'beta']);
    const [alpha, gamma, beta] = targets as [PlannedTarget, PlannedTarget, PlannedTarget];
    expect(alpha.node).to.deep.include({ request_timeout: 500, override_params: { temperature: 0 } });
    expect(alpha.node).to.not.have.property('retry');
    expect(beta.node).to.deep.include({ request_timeout: 500, retry: { attempts: 2 }, override_params: { temperature: 0 } });
    expect(gamma.node).to.deep.include({ request_timeout: 50, retry: { attempts: 2 }, override_params: { temperature: 1 } });
    expect(calls.map((c) => `${c.mode} ${c.path}`)).to.deep.equal(['ordered config', 'reverse config.targets[1]']);
    expect(calls[1]!.node.request_timeout, 'the nested strategy sees its node with what it inherits').to.equal(500);
    expect(config.targets![1]!.request_timeout, 'the config itself is left as it was').to.equal(undefined);
  });

  it('drops the leaves an availability check refuses, asking it about each leaf', () => {
    const { kernel } = strategies();
    const asked: string[] = [];
    kernel.apiFor('circuit-breaker').register.availabilityCheck((target, ctx) => {
      asked.push(`${target.provider} ${target.path} ${ctx.id}`);
      return target.provider !== 'beta';
    });
    const config: ConfigNode = {
      strategy: { mode: 'ordered' },
      targets: [leaf('alpha'), leaf('beta'), { strategy: { mode: 'reverse' }, targets: [leaf('beta'), leaf('gamma')] }],
    };
    const targets = planRoute(kernel, makeCtx(kernel, config));
    expect(paths(targets)).to.deep.equal(['config.targets[0]', 'config.targets[2].targets[1]']);
    expect(asked).to.deep.equal([
      'alpha config.targets[0] req-test',
      'beta config.targets[1] req-test',
      'gamma config.targets[2].targets[1] req-test',
      'beta config.targets[2].targets[0] req-test',
    ]);
  });

  it('is a retryable 503 no_available_target when every target is unavailable', () => {
    const { kernel } = strategies();
    kernel.apiFor('circuit-breaker').register.availabilityCheck(() => false);
    const err = thrown(() => planRoute(kernel, makeCtx(kernel, { strategy: { mode: 'ordered' }, targets: [leaf('alpha'), leaf('beta')] })));
    expect(err).to.include({ status: 503, code: ErrorCode.NO_AVAILABLE_TARGET, retryable: true });
    expect(thrown(() => planRoute(kernel, makeCtx(kernel, leaf('alpha')))).status, 'a single leaf too').to.equal(503);
  });

  it('is an empty plan, not a 503, when the strategies chose no leaf at all', () => {
    const kernel = newKernel();
    kernel
      .apiFor('picky')
      .hooks.selectTarget.for('none')
      .tap(SelectTargetStage.STRATEGY, () => []);
    expect(planRoute(kernel, makeCtx(kernel, { strategy: { mode: 'none' }, targets: [leaf('alpha')] }))).to.deep.equal([]);
  });

  it('is a 400 naming the path when the only strategy of a mode returns undefined', () => {
    const { kernel } = strategies();
    kernel
      .apiFor('undecided')
      .hooks.selectTarget.for('maybe')
      .tap(SelectTargetStage.STRATEGY, () => undefined);
    const config: ConfigNode = { strategy: { mode: 'ordered' }, targets: [leaf('alpha'), { strategy: { mode: 'maybe' }, targets: [leaf('beta')] }] };
    const err = thrown(() => planRoute(kernel, makeCtx(kernel, config)));
    expect(err).to.include({ status: 400, code: ErrorCode.INVALID_CONFIG, param: 'config.targets[1].strategy.mode' });
    expect(err.message).to.match(/"maybe".*loaded: ordered, reverse, maybe/);
  });

  it('lets an OVERRIDE tap that returns undefined defer to the STRATEGY tap of the same mode', () => {
    const { kernel } = strategies();
    const overrides: string[] = [];
    kernel
      .apiFor('override')
      .hooks.selectTarget.for('ordered')
      .tap(SelectTargetStage.OVERRIDE, (_node, ctx, expand, path) => {
        overrides.push(path);
        return ctx.metadata.pin === 'last' ? expand(1) : undefined;
      });
    const config: ConfigNode = { strategy: { mode: 'ordered' }, targets: [leaf('alpha'), leaf('beta')] };
    expect(paths(planRoute(kernel, makeCtx(kernel, config)))).to.deep.equal(['config.targets[0]', 'config.targets[1]']);
    expect(paths(planRoute(kernel, makeCtx(kernel, config, { metadata: { pin: 'last' } })))).to.deep.equal(['config.targets[1]']);
    expect(overrides).to.deep.equal(['config', 'config']);
  });

  it('is a 400 naming the path for a mode no plugin tapped', () => {
    const { kernel } = strategies();
    const err = thrown(() =>
      planRoute(kernel, makeCtx(kernel, { strategy: { mode: 'ordered' }, targets: [{ strategy: { mode: 'nope' }, targets: [leaf('alpha')] }] })),
    );
    expect(err).to.include({ status: 400, param: 'config.targets[0].strategy.mode' });
  });
});

describe('leaf targets and keys', () => {
  function serverKeyKernel(): Kernel {
    const kernel = new Kernel(
      configFromObject({ defaultPlugins: false, providers: { alpha: { api_key: 'sk-server', base_url: 'https://proxy.example/v1' } } }, process.cwd(), {}),
      silent,
    );
    kernel.apiFor('test').register.provider({ id: 'alpha', baseURL: 'https://alpha.example/v1', endpoints: {} });
    kernel.apiFor('test').register.provider({ id: 'nohost', endpoints: {} });
    return kernel;
  }

  it("takes the config's key, else the caller's bearer key, else the gateway's own", () => {
    const kernel = serverKeyKernel();
    const one = (node: ConfigNode, headers: Record<string, string> = {}) => planRoute(kernel, makeCtx(kernel, node, { headers }))[0]!;
    expect(one({ provider: 'alpha', api_key: 'sk-node' }, { authorization: 'Bearer sk-caller' })).to.include({ apiKey: 'sk-node', keySource: 'request' });
    expect(one({ provider: 'alpha' }, { authorization: 'Bearer sk-caller' })).to.include({ apiKey: 'sk-caller', keySource: 'request' });
    expect(one({ provider: 'alpha' })).to.include({ apiKey: 'sk-server', keySource: 'server', baseURL: 'https://proxy.example/v1' });
  });

  it("never sends the gateway's own key to a custom host a request supplied", () => {
    const kernel = serverKeyKernel();
    const node = { provider: 'alpha', custom_host: 'https://elsewhere.example/v1' };
    const fromHeader = makeCtx(kernel, node);
    (fromHeader as { configSource: string }).configSource = 'header';
    expect(thrown(() => planRoute(kernel, fromHeader))).to.include({ status: 400, code: ErrorCode.MISSING_CREDENTIALS, param: 'config.custom_host' });
    // The file's own config may pair them: the operator chose that host.
    expect(planRoute(kernel, makeCtx(kernel, node))[0]).to.include({ apiKey: 'sk-server', baseURL: 'https://elsewhere.example/v1' });
  });

  it('is a 400 naming the path for a provider with no default address and no custom host', () => {
    const kernel = serverKeyKernel();
    expect(thrown(() => planRoute(kernel, makeCtx(kernel, { provider: 'nohost', api_key: 'k' })))).to.include({
      status: 400,
      param: 'config.custom_host',
    });
  });
});
