import { expect } from 'chai';
import {
  createHooks,
  pluginHooks,
  sealHooks,
  strategyModes,
  BeforeRequestStage,
  SelectTargetStage,
  AfterResponseStage,
  OnErrorStage,
} from '../src/hooks.js';
import { GatewayError } from '../src/errors.js';
import type { RequestContext } from '../src/context.js';
import type { ConfigNode, PlannedTarget } from '../src/types.js';

const ctx = {} as RequestContext;
const node = {} as ConfigNode;
const expand = (): PlannedTarget[] => [];

describe('hooks', () => {
  it('runs taps in stage order, and a bail hook stops at the first defined result', () => {
    const hooks = createHooks();
    const order: string[] = [];
    pluginHooks(hooks, 'late')
      .selectTarget.for('m')
      .tap(SelectTargetStage.STRATEGY, () => {
        order.push('late');
        return [];
      });
    pluginHooks(hooks, 'first')
      .selectTarget.for('m')
      .tap(SelectTargetStage.OVERRIDE, () => {
        order.push('first');
        return undefined;
      });
    const plan = hooks.selectTarget.get('m')!.call(node, ctx, expand, 'config');
    expect(order).to.deep.equal(['first', 'late']);
    expect(plan).to.deep.equal([]);
    expect(strategyModes(hooks)).to.deep.equal(['m']);
  });

  it('names the plugin (the one whose view made the tap) and the hook in what a tap throws', async () => {
    const hooks = createHooks();
    pluginHooks(hooks, 'acme-plugin').beforeRequest.tapPromise(BeforeRequestStage.AUTH, async () => {
      throw new Error('boom');
    });
    pluginHooks(hooks, 'other').beforeRequest.tap(BeforeRequestStage.NORMAL, () => {
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

  it('names the plugin and the hook in what a strategy throws on selectTarget', () => {
    const hooks = createHooks();
    pluginHooks(hooks, 'acme-strategy')
      .selectTarget.for('acme')
      .tap(SelectTargetStage.STRATEGY, () => {
        throw new Error('no plan');
      });
    let err: unknown;
    try {
      hooks.selectTarget.get('acme')!.call(node, ctx, expand, 'config');
    } catch (e) {
      err = e;
    }
    expect(err).to.include({ plugin: 'acme-strategy', hook: 'selectTarget', status: 500 });
  });

  it('keeps a GatewayError thrown by a tap as it is, adding where it came from', async () => {
    const hooks = createHooks();
    pluginHooks(hooks, 'policy').onError.tapPromise(OnErrorStage.NORMAL, async () => {
      throw new GatewayError('denied', 403, 'no');
    });
    const err = await hooks.onError.promise(new GatewayError('x', 500, 'x'), ctx).catch((e: unknown) => e as GatewayError);
    expect(err).to.include({ status: 403, code: 'denied', plugin: 'policy', hook: 'onError' });
  });

  it('threads the response through afterResponse taps (waterfall)', async () => {
    const hooks = createHooks();
    pluginHooks(hooks, 'a').afterResponse.tap(AfterResponseStage.NORMAL, (res) => ({ ...(res as object), a: 1 }) as never);
    pluginHooks(hooks, 'b').afterResponse.tapPromise(AfterResponseStage.LOG, async (res) => ({ ...(res as object), b: 2 }) as never);
    const out = await hooks.afterResponse.promise({ status: 200 } as never, ctx);
    expect(out).to.deep.equal({ status: 200, a: 1, b: 2 });
  });

  it('lets a promise tap pass with undefined at once (no promise), on a bail hook and a waterfall; any other non-promise is an error naming it', async () => {
    const hooks = createHooks();
    const seen: string[] = [];
    pluginHooks(hooks, 'idle').beforeRequest.tapPromise(BeforeRequestStage.AUTH, () => void seen.push('idle'));
    pluginHooks(hooks, 'answers').beforeRequest.tapPromise(BeforeRequestStage.NORMAL, async () => {
      seen.push('answers');
      return { status: 204 } as never;
    });
    expect(await hooks.beforeRequest.promise(ctx)).to.deep.equal({ status: 204 });
    expect(seen).to.deep.equal(['idle', 'answers']);
    pluginHooks(hooks, 'idle').afterResponse.tapPromise(AfterResponseStage.NORMAL, () => undefined);
    pluginHooks(hooks, 'b').afterResponse.tapPromise(AfterResponseStage.LOG, async (res) => ({ ...(res as object), b: 2 }) as never);
    expect(await hooks.afterResponse.promise({ status: 200 } as never, ctx)).to.deep.equal({ status: 200, b: 2 });
    const odd = createHooks();
    pluginHooks(odd, 'odd').beforeRequest.tapPromise(BeforeRequestStage.AUTH, (() => 42) as never);
    const err = (await odd.beforeRequest.promise(ctx).then(
      () => undefined,
      (e: unknown) => e,
    )) as GatewayError;
    expect(err).to.include({ plugin: 'odd', hook: 'beforeRequest', status: 500 });
    expect(err.message).to.match(/neither a promise nor undefined/);
  });

  it('refuses taps after sealing, through a view or on the hook itself, and freezes the hooks object', () => {
    const hooks = createHooks();
    const view = pluginHooks(hooks, 'late');
    view.selectTarget.for('m').tap(SelectTargetStage.STRATEGY, () => []);
    sealHooks(hooks);
    expect(() => view.beforeRequest.tapPromise(BeforeRequestStage.NORMAL, async () => undefined)).to.throw(/sealed/);
    expect(() => view.afterResponse.tap(AfterResponseStage.NORMAL, (r) => r)).to.throw(/sealed/);
    expect(() => view.selectTarget.for('m').tap(SelectTargetStage.STRATEGY, () => [])).to.throw(/sealed/);
    expect(() => hooks.beforeRequest.tapPromise('late', async () => undefined)).to.throw(/sealed/);
    expect(() => hooks.selectTarget.for('other')).to.throw(/sealed/);
    expect(Object.isFrozen(hooks)).to.equal(true);
  });

  it('a view offers taps only: no call, no intercept', () => {
    const view = pluginHooks(createHooks(), 'p') as unknown as Record<string, Record<string, unknown>>;
    expect(Object.keys(view.beforeRequest!).sort()).to.deep.equal(['tap', 'tapPromise']);
    expect(view.beforeRequest!.promise).to.equal(undefined);
    expect(view.onError!.intercept).to.equal(undefined);
  });

  it('gives each hook its own stage table, with no value used twice within a hook', () => {
    for (const table of [BeforeRequestStage, SelectTargetStage, AfterResponseStage, OnErrorStage]) {
      const values = Object.values(table);
      expect(new Set(values).size).to.equal(values.length);
      expect(Object.isFrozen(table)).to.equal(true);
    }
  });
});
