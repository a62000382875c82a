import { expect } from 'chai';
import { GatewayResponse, definePlugin, pluginManifest } from '@waygate/core';
import type { ConfigNode, Kernel, PlannedTarget, RequestContext } from '@waygate/core';
import type { CachedAnswer } from '@waygate/cache-engine';
import { newKernel, makeCtx, use } from '@waygate/core/testing';
import plugin, { MemoryCache, MemoryCacheOptionsSchema, DEFAULT_OPTIONS } from '../src/index.js';

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'cached words' }, finish_reason: 'stop' }],
};

function ctxFor(kernel: Kernel, config: ConfigNode): RequestContext {
  return makeCtx(kernel, config, { path: '/v1/chat/completions', headers: {}, body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
}

/** One request through the hooks: an early answer, or a fake upstream answer that afterResponse sees. */
async function request(kernel: Kernel, config: ConfigNode): Promise<{ ctx: RequestContext; res: GatewayResponse }> {
  const ctx = ctxFor(kernel, config);
  let res = await kernel.hooks.beforeRequest.promise(ctx);
  if (!res) {
    // Stands in for the attempt loop, which sets the target it calls.
    (ctx as unknown as { target: PlannedTarget | undefined }).target = kernel.plan(ctx).targets[0];
    res = GatewayResponse.json(200, completion, {}, 'upstream');
  }
  return { ctx, res: await kernel.hooks.afterResponse.promise(res, ctx) };
}

const CONFIG: ConfigNode = { provider: 'alpha', api_key: 'k', cache: { mode: 'simple', max_age: 60_000 } };

describe('@waygate/cache-memory', () => {
  it('has a manifest with its package name, kind cache and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/cache-memory', kind: 'cache', core: '^1.0.0' });
  });

  it('options: defaults, and unknown keys or impossible bounds refused', () => {
    expect(MemoryCacheOptionsSchema.parse({})).to.deep.equal({ ...DEFAULT_OPTIONS });
    expect(MemoryCacheOptionsSchema.safeParse({ maxEntry: 3 }).success).to.equal(false);
    expect(MemoryCacheOptionsSchema.safeParse({ maxEntries: 0 }).success).to.equal(false);
    expect(MemoryCacheOptionsSchema.safeParse({ maxBytes: 'x' }).success).to.equal(false);
  });

  it('registers itself as the replaceable `simple` backend and serves a hit after a miss', async () => {
    const kernel = newKernel();
    await use(kernel, plugin, {});
    const backend = kernel.registry('caches').get('simple');
    expect(backend).to.be.instanceOf(MemoryCache);
    expect(kernel.registry('caches').pluginOf('simple')).to.equal('@waygate/cache-memory');
    const miss = await request(kernel, CONFIG);
    expect(miss.ctx.responseHeaders['x-waygate-cache-status']).to.equal('MISS');
    expect((backend as MemoryCache).lru.size).to.equal(1);
    const hit = await request(kernel, CONFIG);
    expect(hit.res.source).to.equal('cache');
    expect(hit.res.body).to.deep.equal(completion);
    expect(hit.ctx.responseHeaders['x-waygate-cache-status']).to.equal('HIT');
  });

  it('steps aside when another plugin registers `simple` (as @waygate/cache-redis does)', async () => {
    const kernel = newKernel();
    await use(kernel, plugin, {});
    const stored: string[] = [];
    const other = definePlugin({
      manifest: { ...pluginManifest(import.meta.url, 'cache'), name: 'other-cache' },
      setup(api) {
        api.registry('caches').register('simple', {
          get: () => undefined,
          set: (key: string, _e: CachedAnswer) => void stored.push(key),
        });
      },
    });
    await use(kernel, other, {});
    expect(kernel.registry('caches').pluginOf('simple')).to.equal('other-cache');
    kernel.seal();
    const r1 = await request(kernel, CONFIG);
    const r2 = await request(kernel, CONFIG);
    expect(r1.ctx.responseHeaders['x-waygate-cache-status'], 'no tap acts: the other plugin taps nothing here').to.equal(undefined);
    expect(r2.res.source).to.equal('upstream');
    expect(stored).to.deep.equal([]);
  });

  it('MemoryCache keeps entries serialized: changing the stored object later changes nothing', () => {
    const cache = new MemoryCache({ maxEntries: 10, maxBytes: 100_000 });
    const body = { a: 1 };
    cache.set('k', { endpoint: 'chat.completions', status: 200, headers: {}, body, storedAt: 5 }, 1000);
    body.a = 2;
    expect(cache.get('k')!.body).to.deep.equal({ a: 1 });
  });

  it('MemoryCache honours the TTL with an injected clock', () => {
    let now = 0;
    const cache = new MemoryCache({ now: () => now });
    cache.set('k', { endpoint: 'chat.completions', status: 200, headers: {}, body: 1, storedAt: 0 }, 1000);
    now = 999;
    expect(cache.get('k')).to.not.equal(undefined);
    now = 1000;
    expect(cache.get('k')).to.equal(undefined);
  });
});
