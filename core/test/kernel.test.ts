import { expect } from 'chai';
import { Kernel } from '../src/kernel.js';
import { RequestContext } from '../src/context.js';
import { configFromObject } from '../src/config.js';
import { GatewayResponse } from '../src/response.js';
import { BeforeRequestStage, SelectTargetStage, AfterResponseStage, OnErrorStage } from '../src/hooks.js';
import { ErrorCode, GatewayError, badRequest } from '../src/errors.js';
import { newKernel, makeCtx, silent, thrown } from '../src/testing/index.js';
import type { PlannedTarget } from '../src/types.js';

const leaf = { provider: 'alpha', api_key: 'k' };

/** Every child of a node, in order. */
const all = (node: { targets?: unknown[] }, expand: (i: number) => PlannedTarget[]) => (node.targets ?? []).flatMap((_, i) => expand(i));

function clientRequest(init: { id?: string; traceId?: string; headers?: Record<string, string>; body?: Record<string, unknown> } = {}): RequestContext {
  return new RequestContext({
    id: init.id ?? 'client-1',
    traceId: init.traceId,
    endpoint: 'chat.completions',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: init.headers ?? {},
    body: init.body ?? { model: 'm', messages: [] },
  });
}

describe('Kernel.apiFor: a plugin view', () => {
  it('attributes registrations to the plugin: a duplicate provider names the first owner', () => {
    const kernel = newKernel();
    kernel.apiFor('first-plugin').register.provider({ id: 'acme', endpoints: {} });
    expect(kernel.providers.pluginOf('acme')).to.equal('first-plugin');
    expect(() => kernel.apiFor('second-plugin').register.provider({ id: 'acme', endpoints: {} })).to.throw(
      /provider "acme" is already registered by first-plugin/,
    );
    expect(kernel.providers.pluginOf('acme')).to.equal('first-plugin');
  });

  it('refuses a provider id that is not a lower-case slug', () => {
    const api = newKernel().apiFor('p');
    for (const id of ['Acme', '', '-x', 'a b', undefined]) {
      expect(() => api.register.provider({ id, endpoints: {} } as never), String(id)).to.throw(/needs an id of lower-case letters/);
    }
  });

  it('attributes taps to the plugin: what a tap throws names it and the hook', async () => {
    const kernel = newKernel();
    kernel.apiFor('acme-auth').hooks.beforeRequest.tap(BeforeRequestStage.AUTH, () => {
      throw new Error('no key');
    });
    const res = await kernel.handle(clientRequest({ headers: { 'x-waygate-provider': 'alpha' } }));
    expect(res.status).to.equal(500);
    expect((res.body as any).error.message).to.match(/acme-auth.*beforeRequest.*no key/);
  });

  it('is frozen, and its hooks offer taps only: no call, no intercept, no way to seal', () => {
    const api = newKernel().apiFor('p');
    expect(Object.isFrozen(api)).to.equal(true);
    expect(Object.isFrozen(api.register)).to.equal(true);
    expect(() => {
      (api as { name: string }).name = 'someone-else';
    }).to.throw(TypeError);
    for (const name of ['beforeRequest', 'afterResponse', 'onError'] as const) {
      expect(Object.keys(api.hooks[name]).sort(), name).to.deep.equal(['tap', 'tapPromise']);
    }
    expect(Object.keys(api.hooks.selectTarget)).to.deep.equal(['for']);
    expect(Object.keys(api.hooks.selectTarget.for('m'))).to.deep.equal(['tap']);
    const anyApi = api as unknown as Record<string, unknown>;
    for (const missing of ['seal', 'checkConfig', 'handle', 'plugins', 'availability']) expect(anyApi[missing], missing).to.equal(undefined);
    const hooks = api.hooks as unknown as Record<string, Record<string, unknown>>;
    expect(hooks.onError!.promise).to.equal(undefined);
    expect(hooks.beforeRequest!.intercept).to.equal(undefined);
    expect(hooks.afterResponse!.call).to.equal(undefined);
  });

  it('shares one registry per kind between plugins, each name attributed to its plugin', () => {
    const kernel = newKernel();
    kernel.apiFor('plugin-a').registry<number>('caches').register('simple', 1);
    const b = kernel.apiFor('plugin-b').registry<number>('caches');
    expect(b.kind).to.equal('caches');
    expect(b.get('simple')).to.equal(1);
    expect(b.pluginOf('simple')).to.equal('plugin-a');
    expect(kernel.registry('caches').names()).to.deep.equal(['simple']);
    expect(kernel.apiFor('plugin-c').registry('checks').has('simple'), 'another kind is another registry').to.equal(false);
  });

  it('lets a later registration take over a replaceable default, and only a default', () => {
    const kernel = newKernel();
    kernel.apiFor('cache-memory').registry<string>('caches').register('simple', 'memory', { replaceable: true });
    kernel.apiFor('cache-redis').registry<string>('caches').register('simple', 'redis');
    const view = kernel.apiFor('reader').registry<string>('caches');
    expect(view.get('simple')).to.equal('redis');
    expect(view.pluginOf('simple')).to.equal('cache-redis');
    expect(() => kernel.apiFor('third').registry<string>('caches').register('simple', 'other')).to.throw(
      /caches "simple" is already registered by cache-redis/,
    );
  });

  it('gives requestState() slots that are independent of each other and per request', () => {
    const api = newKernel().apiFor('p');
    const a = api.requestState<string>();
    const b = api.requestState<string>();
    const other = newKernel().apiFor('q').requestState<string>();
    const one = clientRequest({ id: 'one' });
    const two = clientRequest({ id: 'two' });
    a.set(one, 'a-one');
    expect(a.get(one)).to.equal('a-one');
    expect(b.get(one), 'another slot of the same plugin').to.equal(undefined);
    expect(other.get(one), "another plugin's slot").to.equal(undefined);
    expect(a.get(two), 'another request').to.equal(undefined);
    b.set(one, 'b-one');
    a.set(two, 'a-two');
    expect([a.get(one), b.get(one), a.get(two), b.get(two)]).to.deep.equal(['a-one', 'b-one', 'a-two', undefined]);
  });
});

describe('Kernel.seal', () => {
  it('refuses every tap and registration afterwards, naming the hook', () => {
    const kernel = newKernel();
    const api = kernel.apiFor('late-plugin');
    api.hooks.selectTarget.for('m').tap(SelectTargetStage.STRATEGY, () => []);
    api.registry('caches').register('memory', {});
    kernel.seal();
    expect(kernel.sealed).to.equal(true);
    expect(api.sealed).to.equal(true);
    const refused: Array<[string, () => unknown, RegExp]> = [
      ['beforeRequest', () => api.hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, () => undefined), /late-plugin: the beforeRequest hook is sealed/],
      [
        'beforeRequest (promise)',
        () => api.hooks.beforeRequest.tapPromise(BeforeRequestStage.NORMAL, async () => undefined),
        /beforeRequest hook is sealed/,
      ],
      ['afterResponse', () => api.hooks.afterResponse.tap(AfterResponseStage.NORMAL, (r) => r), /late-plugin: the afterResponse hook is sealed/],
      ['onError', () => api.hooks.onError.tap(OnErrorStage.NORMAL, () => undefined), /late-plugin: the onError hook is sealed/],
      [
        'selectTarget, a tapped mode',
        () => api.hooks.selectTarget.for('m').tap(SelectTargetStage.STRATEGY, () => []),
        /late-plugin: the selectTarget hook is sealed/,
      ],
      ['selectTarget, a new mode', () => api.hooks.selectTarget.for('new').tap(SelectTargetStage.STRATEGY, () => []), /the selectTarget hook is sealed/],
      ['a new view', () => kernel.apiFor('later').hooks.onError.tap(OnErrorStage.NORMAL, () => undefined), /later: the onError hook is sealed/],
      ['provider', () => api.register.provider({ id: 'late', endpoints: {} }), /provider registry is sealed/],
      ['endpoint', () => api.register.endpoint({ id: 'late', routes: [] }), /late-plugin: the kernel is sealed/],
      ['availability check', () => api.register.availabilityCheck(() => true), /late-plugin: the kernel is sealed/],
      ['registry entry', () => api.registry('caches').register('redis', {}), /caches registry is sealed/],
      ['registry of a new kind', () => api.registry('never-used'), /No plugin registered any never-used/],
      ['config check', () => api.addConfigCheck(() => undefined), /late-plugin: the kernel is sealed/],
      ['onSeal', () => api.onSeal(() => undefined), /late-plugin: the kernel is sealed/],
    ];
    for (const [what, fn, message] of refused) expect(fn, what).to.throw(message);
    expect(Object.isFrozen(kernel.hooks)).to.equal(true);
    expect(kernel.registry('caches').names(), 'what registered before sealing is kept').to.deep.equal(['memory']);
  });

  it('runs onSeal() callbacks once, after every plugin set up and before sealing', () => {
    const kernel = newKernel();
    const api = kernel.apiFor('early');
    const seen: string[] = [];
    api.onSeal(() => {
      seen.push(`sealed=${api.sealed} checks=${kernel.registry('checks').names().join(',')}`);
      // Still start-up: registering here is allowed.
      api.registry('checks').register('early.check', {});
    });
    kernel.apiFor('late').registry('checks').register('late.check', {});
    kernel.seal();
    expect(seen).to.deep.equal(['sealed=false checks=late.check']);
    expect(kernel.registry('checks').names()).to.deep.equal(['late.check', 'early.check']);
  });

  it('stops when an onSeal() callback throws: the kernel is left unsealed', () => {
    const kernel = newKernel();
    const api = kernel.apiFor('strict');
    api.onSeal(() => {
      throw new Error('option names an unknown check');
    });
    expect(() => kernel.seal()).to.throw(/option names an unknown check/);
    expect(kernel.sealed).to.equal(false);
    expect(Object.isFrozen(kernel.hooks)).to.equal(false);
    expect(() => api.hooks.onError.tap(OnErrorStage.NORMAL, () => undefined)).to.not.throw();
  });

  it("checks the file's routing config against what loaded", () => {
    const kernel = new Kernel(configFromObject({ defaultPlugins: false, routing: { provider: 'nowhere' } }, process.cwd(), {}), silent);
    const err = thrown(() => kernel.seal());
    expect(err).to.include({ status: 400, code: ErrorCode.UNKNOWN_PROVIDER, param: 'routing.provider' });
    expect(kernel.sealed).to.equal(false);
  });
});

describe('Kernel.checkConfig', () => {
  function strategyKernel(...modes: string[]): Kernel {
    const kernel = newKernel();
    for (const mode of modes)
      kernel
        .apiFor(`strategy-${mode}`)
        .hooks.selectTarget.for(mode)
        .tap(SelectTargetStage.STRATEGY, (node, _ctx, expand) => all(node, expand));
    return kernel;
  }

  it('rejects an unknown provider with a 400 naming the path and the loaded providers', () => {
    const kernel = strategyKernel('fallback');
    const err = thrown(() => kernel.checkConfig({ strategy: { mode: 'fallback' }, targets: [leaf, { provider: 'nope' }] }, 'config'));
    expect(err).to.include({ status: 400, code: ErrorCode.UNKNOWN_PROVIDER, param: 'config.targets[1].provider' });
    expect(err.message).to.match(/unknown provider "nope"; this gateway knows: alpha, beta, delta, epsilon, gamma/);
  });

  it('rejects a strategy mode no plugin tapped with a 400 naming the path and listing the loaded modes', () => {
    const kernel = strategyKernel('fallback', 'loadbalance');
    const config = { strategy: { mode: 'fallback' }, targets: [{ strategy: { mode: 'weighted' }, targets: [leaf] }] };
    const err = thrown(() => kernel.checkConfig(config, 'config'));
    expect(err).to.include({ status: 400, code: ErrorCode.INVALID_CONFIG, param: 'config.targets[0].strategy.mode' });
    expect(err.message).to.match(/"weighted".*loaded: fallback, loadbalance/);
  });

  it("runs every plugin's config check on every node, parents first, and a check's 400 names the path", () => {
    const kernel = strategyKernel('fallback');
    const seen: string[] = [];
    kernel.apiFor('check-a').addConfigCheck((_node, path) => seen.push(`a ${path}`));
    kernel.apiFor('check-b').addConfigCheck((node, path) => {
      seen.push(`b ${path}`);
      if (node.shiny !== undefined) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.shiny is not allowed`, `${path}.shiny`);
    });
    const nested = { strategy: { mode: 'fallback' }, targets: [leaf, { strategy: { mode: 'fallback' }, targets: [leaf, leaf] }] };
    kernel.checkConfig(nested, 'config');
    expect(seen).to.deep.equal([
      'a config',
      'b config',
      'a config.targets[0]',
      'b config.targets[0]',
      'a config.targets[1]',
      'b config.targets[1]',
      'a config.targets[1].targets[0]',
      'b config.targets[1].targets[0]',
      'a config.targets[1].targets[1]',
      'b config.targets[1].targets[1]',
    ]);
    const err = thrown(() => kernel.checkConfig({ strategy: { mode: 'fallback' }, targets: [leaf, { ...leaf, shiny: true }] }, 'config'));
    expect(err).to.include({ status: 400, param: 'config.targets[1].shiny' });
  });

  it('refuses a custom host that points at a cloud metadata service, naming the path', () => {
    const err = thrown(() => newKernel().checkConfig({ ...leaf, custom_host: 'http://169.254.169.254/v1' }, 'config'));
    expect(err).to.include({ status: 400, code: ErrorCode.FORBIDDEN_HOST, param: 'config.custom_host' });
  });
});

describe('Kernel.plan', () => {
  function countingKernel(): { kernel: Kernel; runs: () => number } {
    const kernel = newKernel();
    let runs = 0;
    kernel
      .apiFor('counting-strategy')
      .hooks.selectTarget.for('counted')
      .tap(SelectTargetStage.STRATEGY, (node, _ctx, expand) => {
        runs++;
        return all(node, expand);
      });
    return { kernel, runs: () => runs };
  }
  const counted = { strategy: { mode: 'counted' }, targets: [leaf, { provider: 'beta', api_key: 'k' }] };

  it('is made once per request, whoever asks first, and each request gets its own', () => {
    const { kernel, runs } = countingKernel();
    const ctx = makeCtx(kernel, counted);
    const first = kernel.plan(ctx);
    const again = kernel.apiFor('a-cache').plan(ctx);
    expect(again).to.equal(first);
    expect(ctx.plan).to.equal(first);
    expect(first.targets.map((t) => t.provider)).to.deep.equal(['alpha', 'beta']);
    expect(runs()).to.equal(1);
    kernel.plan(makeCtx(kernel, counted));
    expect(runs()).to.equal(2);
  });

  it('is shared by a beforeRequest plugin and the attempt loop of the same request', async () => {
    const { kernel, runs } = countingKernel();
    const api = kernel.apiFor('a-guardrail');
    let planned: unknown;
    api.hooks.beforeRequest.tap(BeforeRequestStage.GUARDRAIL_INPUT, (ctx) => {
      planned = api.plan(ctx);
      return undefined;
    });
    const ctx = clientRequest({ headers: { 'x-waygate-config': JSON.stringify(counted) } });
    // The fake providers serve no endpoint: the attempt fails after routing, which is all this needs.
    const res = await kernel.handle(ctx);
    expect(res.status).to.equal(400);
    expect((res.body as any).error.code).to.equal(ErrorCode.UNSUPPORTED_ENDPOINT);
    expect(ctx.plan).to.equal(planned);
    expect(runs()).to.equal(1);
  });

  it('is a 400 when the strategies selected no target', () => {
    const kernel = newKernel();
    kernel
      .apiFor('picky')
      .hooks.selectTarget.for('none')
      .tap(SelectTargetStage.STRATEGY, () => []);
    const ctx = makeCtx(kernel, { strategy: { mode: 'none' }, targets: [leaf] });
    const err = thrown(() => kernel.plan(ctx));
    expect(err).to.include({ status: 400, code: ErrorCode.INVALID_CONFIG });
    expect(ctx.plan).to.equal(undefined);
  });
});

describe('Kernel subrequest()', () => {
  /** A kernel whose beforeRequest answers every sub-request once it is aborted, recording its context. */
  function subKernel() {
    const kernel = newKernel();
    const subs: RequestContext[] = [];
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    kernel.apiFor('sub-answerer').hooks.beforeRequest.tapPromise(BeforeRequestStage.NORMAL, async (ctx) => {
      if (!ctx.parent) return undefined;
      subs.push(ctx);
      entered();
      if (!ctx.aborted) await new Promise((resolve) => ctx.abortEmitter.once('abort', resolve));
      return GatewayResponse.json(200, { aborted: ctx.aborted, reason: String(ctx.abortEmitter.reason) });
    });
    return { kernel, subs, started, api: kernel.apiFor('cache-semantic') };
  }
  const init = { endpoint: 'embeddings', path: '/v1/embeddings', headers: { 'x-waygate-provider': 'alpha' }, body: { input: 'hi' } };

  it("is aborted when the client's request is, names the plugin that made it, and shares the trace id", async () => {
    const { subs, started, api } = subKernel();
    const parent = clientRequest({ id: 'client-9', traceId: 'trace-7' });
    const pending = api.subrequest({ ...init, parent });
    await started;
    const sub = subs[0]!;
    expect(sub.aborted).to.equal(false);
    expect(sub.parent).to.equal(parent);
    expect(sub.madeBy).to.equal('cache-semantic');
    expect(sub.traceId).to.equal('trace-7');
    expect(sub.id).to.match(/^client-9:sub\d+$/);
    expect(sub.endpoint).to.equal('embeddings');
    parent.abort(new Error('client went away'));
    const res = await pending;
    expect(res.body).to.deep.equal({ aborted: true, reason: 'Error: client went away' });
    expect(parent.abortEmitter.listenerCount('abort'), 'the link to the parent is removed when the sub-request ends').to.equal(0);
  });

  it("starts aborted when the client's request already was", async () => {
    const { subs, api } = subKernel();
    const parent = clientRequest();
    parent.abort('gone');
    const res = await api.subrequest({ ...init, parent });
    expect(subs[0]!.aborted).to.equal(true);
    expect(res.body).to.deep.equal({ aborted: true, reason: 'gone' });
  });

  it('without a parent, runs on its own trace, named after the plugin', async () => {
    const kernel = newKernel();
    let seen: RequestContext | undefined;
    kernel.apiFor('probe').hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, (ctx) => {
      seen = ctx;
      return GatewayResponse.json(200, {});
    });
    await kernel.apiFor('warmup').subrequest(init);
    expect(seen!.madeBy).to.equal('warmup');
    expect(seen!.parent).to.equal(undefined);
    expect(seen!.traceId).to.equal(seen!.id);
    expect(seen!.id).to.match(/^warmup:sub\d+$/);
  });
});

describe('Kernel.handle', () => {
  it("shapes error answers the way the request's endpoint says", async () => {
    const kernel = newKernel();
    kernel.apiFor('test-other').register.endpoint({ id: 'other', routes: [], errorBody: (e) => ({ type: 'error', error: { message: e.message } }) });
    const ctx = new RequestContext({ id: 'r', endpoint: 'other', method: 'POST', path: '/x', headers: {}, body: {} });
    const res = await kernel.handle(ctx);
    expect(res.status).to.equal(400);
    expect((res.body as any).type).to.equal('error');
    expect((res.body as any).error.message).to.match(/No provider or config/);
  });

  it('answers early with what a beforeRequest tap returns, still through afterResponse', async () => {
    const kernel = newKernel();
    const order: string[] = [];
    const api = kernel.apiFor('cache');
    api.hooks.beforeRequest.tap(BeforeRequestStage.CACHE_LOOKUP, () => {
      order.push('lookup');
      return GatewayResponse.json(200, { cached: true }, {}, 'cache');
    });
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res) => {
      order.push(`after ${res.source}`);
      return res;
    });
    const res = await kernel.handle(clientRequest({ headers: { 'x-waygate-provider': 'alpha' } }));
    expect(res.body).to.deep.equal({ cached: true });
    expect(order).to.deep.equal(['lookup', 'after cache']);
  });

  it('never throws: an afterResponse tap that throws becomes an error answer naming the plugin and hook', async () => {
    const kernel = newKernel();
    kernel.apiFor('broken-logger').hooks.afterResponse.tap(AfterResponseStage.LOG, () => {
      throw new Error('disk full');
    });
    kernel.apiFor('cache').hooks.beforeRequest.tap(BeforeRequestStage.CACHE_LOOKUP, () => GatewayResponse.json(200, {}));
    const res = await kernel.handle(clientRequest({ headers: { 'x-waygate-provider': 'alpha' } }));
    expect(res.status).to.equal(500);
    expect((res.body as any).error.message).to.match(/broken-logger.*afterResponse.*disk full/);
  });
});

describe('Kernel: authentication before the request’s config (BeforeRequestStage.AUTH, CONFIG, api.authorize)', () => {
  /** A kernel with an auth plugin that grants what `grant` says, and a NORMAL tap that records what the request became. */
  function authKernel(grant: Parameters<ReturnType<Kernel['apiFor']>['authorize']>[1]) {
    const kernel = newKernel();
    const api = kernel.apiFor('acme-auth');
    const seen: Array<{ config: unknown; source: string; metadata: unknown; headers: Record<string, unknown> }> = [];
    api.hooks.beforeRequest.tap(BeforeRequestStage.AUTH, (ctx) => {
      if (ctx.headers['x-test-key'] !== 'good') throw new GatewayError('invalid_api_key', 401, 'no key');
      api.authorize(ctx, grant);
      return undefined;
    });
    kernel.apiFor('probe').hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, (ctx) => {
      seen.push({ config: ctx.config, source: ctx.configSource, metadata: ctx.metadata, headers: { ...ctx.headers } });
      return GatewayResponse.json(200, {});
    });
    kernel.seal();
    return { kernel, seen };
  }

  it('runs AUTH taps before the config is resolved: an unauthenticated request is a 401 even when it names no provider', async () => {
    const { kernel } = authKernel({});
    const res = await kernel.handle(clientRequest());
    expect(res.status).to.equal(401);
    // Without an AUTH tap, the config is resolved first, as it always was (and the kernel adds no tap).
    const plain = newKernel();
    plain.seal();
    expect(plain.hooks.beforeRequest.taps).to.have.length(0);
    expect((await plain.handle(clientRequest())).status).to.equal(400);
  });

  it('uses a granted config when the request sends none, checked like a header’s; a config header still wins', async () => {
    const granted = { provider: 'beta', api_key: 'kb' };
    const { kernel, seen } = authKernel({ config: granted });
    expect((await kernel.handle(clientRequest({ headers: { 'x-test-key': 'good' } }))).status).to.equal(200);
    expect(seen[0]).to.deep.include({ config: granted, source: 'file' });
    await kernel.handle(clientRequest({ headers: { 'x-test-key': 'good', 'x-waygate-config': JSON.stringify(leaf) } }));
    expect(seen[1]!.config).to.deep.equal(leaf);
    const bad = authKernel({ config: { provider: 'nope' } });
    const res = await bad.kernel.handle(clientRequest({ headers: { 'x-test-key': 'good' } }));
    expect(res.status).to.equal(400);
    expect((res.body as any).error.param).to.equal('config.provider');
  });

  it('resolves the config before a CONFIG tap of a plugin that also taps a later stage', async () => {
    const kernel = newKernel();
    const api = kernel.apiFor('acme-auth');
    const seenAtConfig: unknown[] = [];
    api.hooks.beforeRequest.tap(BeforeRequestStage.AUTH, () => undefined);
    api.hooks.beforeRequest.tap(BeforeRequestStage.RATE_LIMIT, () => undefined);
    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => void seenAtConfig.push(api.plan(ctx).targets.map((t) => t.provider)));
    kernel.apiFor('probe').hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, () => GatewayResponse.json(200, {}));
    kernel.seal();
    const res = await kernel.handle(clientRequest({ headers: { 'x-waygate-provider': 'alpha' } }));
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(seenAtConfig).to.deep.equal([['alpha']]);
  });

  it('puts granted metadata over the request’s own, and removes the withheld headers', async () => {
    const { kernel, seen } = authKernel({ metadata: { tier: 'gold' }, withhold: ['authorization'] });
    await kernel.handle(
      clientRequest({
        headers: {
          'x-test-key': 'good',
          'x-waygate-provider': 'alpha',
          authorization: 'Bearer gateway-key',
          'x-waygate-metadata': '{"tier":"free","app":"a"}',
        },
      }),
    );
    expect(seen[0]!.metadata).to.deep.equal({ tier: 'gold', app: 'a' });
    expect(seen[0]!.headers).to.not.have.property('authorization');
  });
});

describe('Kernel: plugin routes (api.register.route)', () => {
  it('keeps a route per prefix, refuses a taken or malformed prefix, and refuses one after sealing', () => {
    const kernel = newKernel();
    const handler = async () => undefined;
    kernel.apiFor('admin-plugin').register.route('/admin', handler);
    expect(kernel.routes.map((r) => r.prefix)).to.deep.equal(['/admin']);
    expect(() => kernel.apiFor('other').register.route('/admin', handler)).to.throw(/invalid or taken/);
    expect(() => kernel.apiFor('other').register.route('admin/x', handler)).to.throw(/invalid or taken/);
    kernel.seal();
    expect(() => kernel.apiFor('late').register.route('/late', handler)).to.throw(/sealed/);
  });
});
