import { expect } from 'chai';
import { createHooks, sealHooks, Stage } from '../src/hooks.js';
import { GatewayError } from '../src/errors.js';
import type { RequestContext } from '../src/context.js';

const ctx = {} as RequestContext;

describe('hooks', () => {
  it('runs taps in stage order, and a bail hook stops at the first defined result', async () => {
    const owner = { current: undefined };
    const hooks = createHooks(owner);
    const order: string[] = [];
    hooks.selectTarget.tapPromise({ name: 'late', stage: Stage.CORE_DEFAULT }, async () => {
      order.push('late');
      return { targets: [] };
    });
    hooks.selectTarget.tapPromise({ name: 'early', stage: Stage.STRATEGY }, async () => {
      order.push('early');
      return undefined;
    });
    hooks.selectTarget.tapPromise({ name: 'first', stage: Stage.ROUTING_OVERRIDE }, async () => {
      order.push('first');
      return undefined;
    });
    const plan = await hooks.selectTarget.promise(ctx);
    expect(order).to.deep.equal(['first', 'early', 'late']);
    expect(plan).to.deep.equal({ targets: [] });
  });

  it('names the plugin (the one in setup, else the tap name) and the hook in what a tap throws', async () => {
    const owner: { current: string | undefined } = { current: 'acme-plugin' };
    const hooks = createHooks(owner);
    hooks.beforeRequest.tapPromise('tap-name', async () => {
      throw new Error('boom');
    });
    owner.current = undefined;
    hooks.beforeRequest.tap('sync-tap', () => {
      throw new TypeError('sync boom');
    });
    let err: unknown;
    try {
      await hooks.beforeRequest.promise(ctx);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GatewayError);
    expect((err as GatewayError).plugin).to.equal('acme-plugin');
    expect((err as GatewayError).hook).to.equal('beforeRequest');
    expect((err as GatewayError).status).to.equal(500);
    expect((err as GatewayError).message).to.match(/acme-plugin.*beforeRequest.*boom/);
  });

  it('keeps a GatewayError thrown by a tap as it is, adding where it came from', async () => {
    const hooks = createHooks({ current: undefined });
    hooks.onError.tapPromise('policy', async () => {
      throw new GatewayError('denied', 403, 'no');
    });
    const err = await hooks.onError.promise(new GatewayError('x', 500, 'x'), ctx).catch((e: unknown) => e as GatewayError);
    expect(err).to.include({ status: 403, code: 'denied', plugin: 'policy', hook: 'onError' });
  });

  it('threads the response through afterResponse taps (waterfall)', async () => {
    const hooks = createHooks({ current: undefined });
    hooks.afterResponse.tap('a', (res) => ({ ...(res as object), a: 1 }) as never);
    hooks.afterResponse.tapPromise('b', async (res) => ({ ...(res as object), b: 2 }) as never);
    const out = await hooks.afterResponse.promise({ status: 200 } as never, ctx);
    expect(out).to.deep.equal({ status: 200, a: 1, b: 2 });
  });

  it('refuses taps after sealing', () => {
    const hooks = createHooks({ current: undefined });
    sealHooks(hooks);
    expect(() => hooks.beforeRequest.tapPromise('late', async () => undefined)).to.throw(/sealed/);
    expect(() => hooks.afterResponse.tap('late', (r) => r)).to.throw(/sealed/);
  });
});
