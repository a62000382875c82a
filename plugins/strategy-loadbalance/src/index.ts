import { z } from 'zod';
import { definePlugin, pluginManifest, Stage } from '@waygate/core';
import type { Kernel } from '@waygate/core';
import { LoadBalancer, DEFAULT_BALANCER_OPTIONS } from './balancer.js';

export { LoadBalancer, DEFAULT_BALANCER_OPTIONS, POLICIES, STATE_KEY } from './balancer.js';
export type { BalancerOptions, Policy } from './balancer.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const LoadbalanceOptionsSchema = z.strictObject({
  maxKeys: z.number().int().min(1).max(1_000_000).default(DEFAULT_BALANCER_OPTIONS.maxKeys),
  ewmaAlpha: z.number().gt(0).max(1).default(DEFAULT_BALANCER_OPTIONS.ewmaAlpha),
  staleAfterMs: z.number().int().positive().default(DEFAULT_BALANCER_OPTIONS.staleAfterMs),
  failurePenaltyMs: z.number().min(0).default(DEFAULT_BALANCER_OPTIONS.failurePenaltyMs),
});

/**
 * The in-flight counts end first thing in afterResponse, before any other plugin's tap could throw
 * and skip the rest of the waterfall: every increment made while planning is matched.
 */
export const RELEASE_STAGE = Stage.AUTH - 500;

const manifest = pluginManifest(import.meta.url, 'strategy');

const balancers = new WeakMap<Kernel, LoadBalancer>();

/** The balancer (and so the statistics) installed on a kernel, for inspection and metrics. */
export function balancerOf(kernel: Kernel): LoadBalancer | undefined {
  return balancers.get(kernel);
}

/** Registers a balancer's strategy and taps on a kernel (what setup() does; tests pass their own balancer). */
export function install(kernel: Kernel, balancer: LoadBalancer): void {
  kernel.strategies.register(balancer.strategy);
  balancers.set(kernel, balancer);
  kernel.hooks.afterResponse.tap({ name: manifest.name, stage: RELEASE_STAGE }, (res, ctx) => {
    balancer.release(ctx);
    return res;
  });
  kernel.hooks.afterResponse.tap({ name: manifest.name, stage: Stage.USAGE }, (res, ctx) => {
    balancer.record(ctx);
    return res;
  });
}

export default definePlugin({
  manifest,
  configSchema: LoadbalanceOptionsSchema,
  setup(kernel, options) {
    install(kernel, new LoadBalancer(options));
  },
});
