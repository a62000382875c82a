import { z } from 'zod';
import { definePlugin, pluginManifest, AfterResponseStage, SelectTargetStage } from '@waygate/core';
import type { Kernel, PluginApi } from '@waygate/core';
import { LoadBalancer, DEFAULT_BALANCER_OPTIONS } from './balancer.js';

export { LoadBalancer, DEFAULT_BALANCER_OPTIONS, POLICIES } from './balancer.js';
export type { BalancerOptions, Policy } from './balancer.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const LoadbalanceOptionsSchema = z.strictObject({
  maxKeys: z.number().int().min(1).max(1_000_000).default(DEFAULT_BALANCER_OPTIONS.maxKeys),
  ewmaAlpha: z.number().gt(0).max(1).default(DEFAULT_BALANCER_OPTIONS.ewmaAlpha),
  staleAfterMs: z.number().int().positive().default(DEFAULT_BALANCER_OPTIONS.staleAfterMs),
  failurePenaltyMs: z.number().min(0).default(DEFAULT_BALANCER_OPTIONS.failurePenaltyMs),
});

const manifest = pluginManifest(import.meta.url, 'strategy');

/** The registry kind (and name) the balancer is registered under, for inspection and metrics. */
const BALANCERS = 'balancers';

/** The balancer (and so the statistics) installed on a gateway's kernel, for inspection and metrics. */
export function balancerOf(kernel: Kernel): LoadBalancer | undefined {
  return kernel.registry<LoadBalancer>(BALANCERS).get('loadbalance');
}

/**
 * Taps a balancer's strategy on `selectTarget` and its bookkeeping on `afterResponse` (what setup()
 * does; tests pass their own balancer). The in-flight counts end first thing in afterResponse
 * (stage RELEASE), before any other plugin's tap could throw and skip the rest of the waterfall:
 * every increment made while planning is matched.
 */
export function install(api: PluginApi, balancer: LoadBalancer): void {
  api.hooks.selectTarget.for(balancer.strategy.mode).tap(SelectTargetStage.STRATEGY, balancer.strategy.plan);
  api.addConfigCheck((node, path) => {
    if (node.strategy?.mode === balancer.strategy.mode) balancer.strategy.validate!(node, path);
  });
  api.registry<LoadBalancer>(BALANCERS).register('loadbalance', balancer);
  api.hooks.afterResponse.tap(AfterResponseStage.RELEASE, (res, ctx) => {
    balancer.release(ctx);
    return res;
  });
  api.hooks.afterResponse.tap(AfterResponseStage.USAGE, (res, ctx) => {
    balancer.record(ctx);
    return res;
  });
}

export default definePlugin({
  manifest,
  configSchema: LoadbalanceOptionsSchema,
  setup(api, options) {
    install(api, new LoadBalancer(options));
  },
});
