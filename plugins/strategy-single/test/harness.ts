// The strategy packages' test support: the shared kit from @waygate/core/testing, plus this family's list.
import { kernelWithPlugins } from '@waygate/core/testing';
import type { Kernel } from '@waygate/core';

export * from '@waygate/core/testing';

export const STRATEGY_PACKAGES = [
  '@waygate/strategy-single',
  '@waygate/strategy-fallback',
  '@waygate/strategy-loadbalance',
  '@waygate/strategy-conditional',
];

/** A kernel with all four strategy packages loaded by name, through the real loader. */
export const kernelWithAllStrategies = (): Promise<Kernel> => kernelWithPlugins(STRATEGY_PACKAGES);
