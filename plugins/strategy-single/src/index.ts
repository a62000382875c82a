import { definePlugin, pluginManifest, badRequest, ErrorCode, SelectTargetStage } from '@waygate/core';
import type { RoutingStrategy } from '@waygate/core';

/**
 * `strategy.mode: "single"`: always the node's first target, whatever the others are (Portkey's
 * semantics). The first target may itself be a subtree with any strategy; its expansion is the plan.
 */
export const singleStrategy: RoutingStrategy = {
  mode: 'single',
  plan(node, _ctx, expand, path) {
    if (!node.targets || node.targets.length === 0) {
      throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets: strategy "single" needs at least one target`, `${path}.targets`);
    }
    return expand(0);
  },
};

const manifest = pluginManifest(import.meta.url, 'strategy');

export default definePlugin({
  manifest,
  setup(api) {
    api.hooks.selectTarget.for(singleStrategy.mode).tap(SelectTargetStage.STRATEGY, singleStrategy.plan);
  },
});
