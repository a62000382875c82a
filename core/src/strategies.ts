import type { RequestContext } from './context.js';
import type { ConfigNode, PlannedTarget, Target } from './types.js';
import type { TapOwner } from './hooks.js';
import { ErrorCode, GatewayError } from './errors.js';
import { inherit, leafTarget } from './routing.js';

/**
 * A routing strategy (`strategy.mode` of a config node): given a node, returns the ordered targets to
 * try. `expand(i)` expands the node's i-th child, with everything inherited folded in, whatever its
 * own strategy is: that is what lets strategies from different packages nest to any depth. A child
 * whose targets are all unavailable (an open circuit) expands to an empty list.
 */
export interface RoutingStrategy {
  mode: string;
  plan(node: ConfigNode, ctx: RequestContext, expand: (index: number) => PlannedTarget[], path: string): PlannedTarget[];
  /**
   * Checks what can be checked without a request (unknown options, impossible weights, malformed
   * conditions) and throws an error naming the path. Called where configs are checked: at start-up
   * for the config file, once per distinct config header. Optional.
   */
  validate?(node: ConfigNode, path: string): void;
}

/**
 * Says whether a target may be tried now (a circuit breaker registers one). Called on the hot path:
 * keep it synchronous and cheap.
 */
export type AvailabilityCheck = (target: Target, ctx: RequestContext) => boolean;

export class StrategyRegistry {
  readonly #map = new Map<string, RoutingStrategy & { plugin?: string }>();
  readonly #checks: AvailabilityCheck[] = [];
  #sealed = false;

  constructor(private readonly owner: TapOwner) {}

  register(strategy: RoutingStrategy): void {
    if (this.#sealed) throw new Error('The strategy registry is sealed: strategies register in setup(), at start-up');
    const existing = this.#map.get(strategy.mode);
    if (existing) throw new Error(`Routing strategy ${JSON.stringify(strategy.mode)} is already registered by ${existing.plugin ?? 'another plugin'}`);
    this.#map.set(strategy.mode, { ...strategy, plugin: this.owner.current });
  }

  /** Adds a check every leaf must pass to be planned (e.g. its circuit is closed). */
  addAvailabilityCheck(check: AvailabilityCheck): void {
    if (this.#sealed) throw new Error('The strategy registry is sealed');
    this.#checks.push(check);
  }

  get(mode: string): RoutingStrategy | undefined {
    return this.#map.get(mode);
  }

  modes(): string[] {
    return [...this.#map.keys()];
  }

  seal(): void {
    this.#sealed = true;
  }

  /** Expands a whole routing config into the plan: the core's default selectTarget. */
  plan(ctx: RequestContext): PlannedTarget[] {
    const state = { leaves: 0 };
    const targets = this.#expand(ctx, ctx.config, 'config', state);
    if (targets.length === 0 && state.leaves > 0) {
      throw new GatewayError(ErrorCode.NO_AVAILABLE_TARGET, 503, 'Every target this request could use is unavailable (circuit open); try again later', {
        retryable: true,
      });
    }
    return targets;
  }

  #expand(ctx: RequestContext, node: ConfigNode, path: string, state: { leaves: number }): PlannedTarget[] {
    if (node.provider !== undefined) {
      state.leaves++;
      const target = leafTarget(ctx, node, path);
      for (const check of this.#checks) if (!check(target, ctx)) return [];
      return [target];
    }
    const mode = node.strategy?.mode;
    const strategy = mode === undefined ? undefined : this.#map.get(mode);
    if (!strategy) {
      throw new GatewayError(
        ErrorCode.INVALID_CONFIG,
        400,
        `${path}.strategy.mode ${JSON.stringify(mode ?? '(none)')}: no loaded plugin handles this routing strategy (loaded: ${this.modes().join(', ') || 'none'})`,
        { param: `${path}.strategy.mode` },
      );
    }
    const children = node.targets ?? [];
    const expand = (i: number): PlannedTarget[] => {
      const child = children[i];
      if (!child) throw new Error(`${path}: no target ${i}`);
      return this.#expand(ctx, inherit(node, child), `${path}.targets[${i}]`, state);
    };
    return strategy.plan(node, ctx, expand, path);
  }
}
