import { definePlugin, pluginManifest, badRequest, ErrorCode, OnErrorStage, SelectTargetStage } from '@waygate/core';
import type { ErrorDecision, GatewayError, PlannedTarget, RequestContext, RoutingStrategy } from '@waygate/core';

/**
 * Targets whose `fallbackOn` a fallback node has settled for good: every target of a fallback's plan
 * but its last. The last one is left open, because when it fails the fallback has nothing more to
 * try and the decision belongs to the enclosing fallback, if any (Portkey: the nested chain returns
 * its last response and the outer chain looks at that response's status). Targets are fresh objects
 * per request, so a WeakSet does not hold anything beyond the request.
 */
const settled = new WeakSet<PlannedTarget>();

/**
 * `strategy.mode: "fallback"`: the plan is every child's expansion, in order. Each target gets the
 * node's `strategy.on_status_codes` as its `fallbackOn` (undefined: any failure moves on), unless a
 * deeper fallback already settled it.
 */
export const fallbackStrategy: RoutingStrategy = {
  mode: 'fallback',
  plan(node, _ctx, expand, path) {
    const n = node.targets?.length ?? 0;
    if (n === 0) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets: strategy "fallback" needs at least one target`, `${path}.targets`);
    const codes = statusCodes(node.strategy?.on_status_codes, path);
    const out: PlannedTarget[] = [];
    for (let i = 0; i < n; i++) {
      const part = expand(i);
      for (let j = 0; j < part.length; j++) out.push(part[j]!);
    }
    const last = out.length - 1;
    for (let i = 0; i <= last; i++) {
      const t = out[i]!;
      if (settled.has(t)) continue;
      t.fallbackOn = codes;
      if (i < last) settled.add(t);
    }
    return out;
  },
};

function statusCodes(value: unknown, path: string): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((c) => Number.isInteger(c) && c >= 100 && c <= 599)) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${path}.strategy.on_status_codes must be a list of HTTP status codes (100-599)`,
      `${path}.strategy.on_status_codes`,
    );
  }
  return value as number[];
}

/**
 * The onError decision (tapped at OnErrorStage.FALLBACK, after retries): move to the next planned target
 * when there is one and the failed target's `fallbackOn` is undefined (any failure) or lists the
 * error's status. Otherwise undefined: a later tap (the core default: fail) decides.
 */
export function fallbackDecision(err: GatewayError, ctx: RequestContext): ErrorDecision | undefined {
  const targets = ctx.plan?.targets;
  if (!targets) return undefined;
  const i = ctx.targetIndex;
  if (i + 1 >= targets.length) return undefined;
  const on = targets[i]?.fallbackOn;
  if (on === undefined || on.includes(err.status)) return { action: 'next' };
  return undefined;
}

const manifest = pluginManifest(import.meta.url, 'strategy');

export default definePlugin({
  manifest,
  setup(api) {
    api.hooks.selectTarget.for(fallbackStrategy.mode).tap(SelectTargetStage.STRATEGY, fallbackStrategy.plan);
    api.hooks.onError.tap(OnErrorStage.FALLBACK, fallbackDecision);
  },
});
