import { ErrorCode, GatewayError, RequestSlot, badRequest, targetKey } from '@waygate/core';
import type { ConfigNode, PlannedTarget, RequestContext, RoutingStrategy } from '@waygate/core';

export const POLICIES = ['weighted', 'least_latency', 'least_inflight'] as const;
export type Policy = (typeof POLICIES)[number];

export interface BalancerOptions {
  /** Random source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Clock in ms. Default performance.now. */
  now?: () => number;
  /** Most targets (by targetKey) the statistics remember; the least recently updated are dropped. */
  maxKeys?: number;
  /** Weight of a new latency sample in the moving average, in (0, 1]. */
  ewmaAlpha?: number;
  /** A latency average older than this (ms) counts as untried, so a slow target is probed again. */
  staleAfterMs?: number;
  /** A failed attempt (5xx, 408, 429, no answer) counts as at least this many ms. */
  failurePenaltyMs?: number;
}

export const DEFAULT_BALANCER_OPTIONS = Object.freeze({
  maxKeys: 10_000,
  ewmaAlpha: 0.3,
  staleAfterMs: 30_000,
  failurePenaltyMs: 5_000,
});

interface LatencyEntry {
  /** Exponentially weighted moving average of attempt time (ms); undefined until the first sample. */
  ewma: number | undefined;
  /** When the entry was last sampled or probed. */
  at: number;
  /** Set when a stale entry is probed: the next sample replaces the average instead of blending in. */
  probe: boolean;
}

/** Per-request bookkeeping: the in-flight increments this request made, by leaf path. */
interface RequestState {
  counted: Map<string, string>;
}

interface Option {
  index: number;
  weight: number;
  plan: PlannedTarget[];
  key: string;
}

/** Attempt errors that say nothing about the target's speed. */
const NOT_THE_TARGETS_FAULT = new Set(['client_closed_request']);

/**
 * The load balancer: the `loadbalance` strategy and the per-target statistics its policies read. One
 * per kernel (made in setup), so two gateways in one process keep separate statistics.
 */
export class LoadBalancer {
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #alpha: number;
  readonly #staleAfterMs: number;
  readonly #failurePenaltyMs: number;
  readonly #latency = new Map<string, LatencyEntry>();
  readonly #inflight = new Map<string, number>();

  readonly strategy: RoutingStrategy;
  /** What this balancer counted for each request (in-flight targets). */
  readonly #slot = new RequestSlot<RequestState>('@waygate/strategy-loadbalance');

  constructor(opts: BalancerOptions = {}) {
    this.#random = opts.random ?? Math.random;
    this.#now = opts.now ?? (() => performance.now());
    this.#maxKeys = opts.maxKeys ?? DEFAULT_BALANCER_OPTIONS.maxKeys;
    this.#alpha = opts.ewmaAlpha ?? DEFAULT_BALANCER_OPTIONS.ewmaAlpha;
    this.#staleAfterMs = opts.staleAfterMs ?? DEFAULT_BALANCER_OPTIONS.staleAfterMs;
    this.#failurePenaltyMs = opts.failurePenaltyMs ?? DEFAULT_BALANCER_OPTIONS.failurePenaltyMs;
    this.strategy = {
      mode: 'loadbalance',
      plan: (node, ctx, expand, path) => this.plan(node, ctx, expand, path),
      validate: (node, path) => validateLoadbalance(node, path),
    };
  }

  /** The `loadbalance` plan: one child's expansion, chosen by the node's policy. */
  plan(node: ConfigNode, ctx: RequestContext, expand: (index: number) => PlannedTarget[], path: string): PlannedTarget[] {
    const children = node.targets ?? [];
    if (children.length === 0) {
      throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets: strategy "loadbalance" needs at least one target`, `${path}.targets`);
    }
    const policy = policyOf(node, path);
    const candidates: Array<{ index: number; weight: number }> = [];
    for (let i = 0; i < children.length; i++) {
      const w = weightOf(children[i]!, path, i);
      if (w > 0) candidates.push({ index: i, weight: w });
    }
    if (candidates.length === 0) {
      throw new GatewayError(
        ErrorCode.INVALID_CONFIG,
        400,
        `${path}.targets: all weights are zero, so loadbalance can never pick a target (a weight of 0 means never; the default is 1)`,
        { param: `${path}.targets` },
      );
    }

    if (policy === 'weighted') {
      // Pick; a child whose every target is unavailable (open circuit) expands to nothing: drop it and pick again.
      while (candidates.length > 0) {
        const k = this.#pickWeighted(candidates);
        const plan = expand(candidates[k]!.index);
        if (plan.length > 0) {
          this.#count(ctx, plan[0]!);
          return plan;
        }
        candidates.splice(k, 1);
      }
      return [];
    }

    // The statistic policies compare the children's leaves: each child's expansion's first target.
    const options: Option[] = [];
    let firstError: unknown;
    for (const c of candidates) {
      let plan: PlannedTarget[];
      try {
        plan = expand(c.index);
      } catch (err) {
        // A child that cannot be planned for this request (a conditional with no match, say) is not a
        // candidate; the error surfaces only if no child can be planned.
        firstError ??= err;
        continue;
      }
      if (plan.length > 0) options.push({ index: c.index, weight: c.weight, plan, key: targetKey(plan[0]!) });
    }
    if (options.length === 0) {
      if (firstError !== undefined) throw firstError;
      return [];
    }
    const chosen = policy === 'least_latency' ? this.#byLatency(options) : this.#byInflight(options);
    // Expanding the other children may have counted their own nested picks in flight: undo that.
    for (const o of options) if (o !== chosen) this.#uncount(ctx, o.plan);
    this.#count(ctx, chosen.plan[0]!);
    return chosen.plan;
  }

  /** Portkey's scan: r = random × Σw; the first child with r < w wins, subtracting w as it goes. */
  #pickWeighted(candidates: ReadonlyArray<{ weight: number }>): number {
    if (candidates.length === 1) return 0;
    let total = 0;
    for (const c of candidates) total += c.weight;
    let r = this.#random() * total;
    for (let k = 0; k < candidates.length; k++) {
      const w = candidates[k]!.weight;
      if (r < w) return k;
      r -= w;
    }
    return candidates.length - 1; // rounding: r ended a hair above the last weight
  }

  #pickAmong(options: Option[]): Option {
    return options[this.#pickWeighted(options)]!;
  }

  #byLatency(options: Option[]): Option {
    const now = this.#now();
    const untried: Option[] = [];
    let best: Option[] = [];
    let bestScore = Infinity;
    for (const o of options) {
      const e = this.#latency.get(o.key);
      if (e === undefined || now - e.at > this.#staleAfterMs) {
        untried.push(o);
        continue;
      }
      // Probed but not answered yet: no score until the answer comes.
      const score = e.ewma ?? Infinity;
      if (score < bestScore) {
        bestScore = score;
        best = [o];
      } else if (score === bestScore) best.push(o);
    }
    if (untried.length > 0) {
      const chosen = this.#pickAmong(untried);
      // Claim the probe, so the requests arriving before its answer do not all pile onto this target.
      const e = this.#latency.get(chosen.key);
      this.#setLatency(chosen.key, { ewma: e?.ewma, at: now, probe: e !== undefined });
      return chosen;
    }
    return this.#pickAmong(best);
  }

  #byInflight(options: Option[]): Option {
    let best: Option[] = [];
    let least = Infinity;
    for (const o of options) {
      const n = this.#inflight.get(o.key) ?? 0;
      if (n < least) {
        least = n;
        best = [o];
      } else if (n === least) best.push(o);
    }
    return this.#pickAmong(best);
  }

  #state(ctx: RequestContext): RequestState {
    let s = this.#slot.get(ctx);
    if (s === undefined) {
      s = { counted: new Map() };
      this.#slot.set(ctx, s);
    }
    return s;
  }

  /** The targets counted in flight for a request (target path → statistics key), if this balancer planned it. */
  countedFor(ctx: RequestContext): ReadonlyMap<string, string> | undefined {
    return this.#slot.get(ctx)?.counted;
  }

  /** One more request in flight on this target (once per request and leaf). */
  #count(ctx: RequestContext, target: PlannedTarget): void {
    const s = this.#state(ctx);
    if (s.counted.has(target.path)) return;
    const key = targetKey(target);
    s.counted.set(target.path, key);
    const n = this.#inflight.get(key);
    if (n === undefined && this.#inflight.size >= this.#maxKeys) this.#inflight.delete(this.#inflight.keys().next().value!);
    this.#inflight.set(key, (n ?? 0) + 1);
  }

  #uncount(ctx: RequestContext, plan: PlannedTarget[]): void {
    const s = this.#slot.get(ctx);
    if (s === undefined) return;
    for (const t of plan) {
      const key = s.counted.get(t.path);
      if (key === undefined) continue;
      s.counted.delete(t.path);
      this.#decrement(key);
    }
  }

  #decrement(key: string): void {
    const n = this.#inflight.get(key);
    if (n === undefined) return; // dropped by the bound meanwhile
    if (n <= 1) this.#inflight.delete(key);
    else this.#inflight.set(key, n - 1);
  }

  /** Ends the request's in-flight counts; safe to call more than once (afterResponse, every response). */
  release(ctx: RequestContext): void {
    const s = this.#slot.get(ctx);
    if (s === undefined || s.counted.size === 0) return;
    for (const key of s.counted.values()) this.#decrement(key);
    s.counted.clear();
  }

  /** Folds the request's attempts into the latency averages (afterResponse). */
  record(ctx: RequestContext): void {
    // Only requests this balancer planned: the rest of the traffic costs nothing here.
    if (this.#slot.get(ctx) === undefined) return;
    const attempts = ctx.attempts;
    const targets = ctx.plan?.targets;
    if (attempts.length === 0 || targets === undefined) return;
    const now = this.#now();
    for (const a of attempts) {
      if (a.error !== undefined && NOT_THE_TARGETS_FAULT.has(a.error)) continue;
      let target: PlannedTarget | undefined;
      for (const t of targets) {
        if (t.path === a.target) {
          target = t;
          break;
        }
      }
      if (target === undefined) continue;
      const failed = a.error !== undefined && (a.status === undefined || a.status >= 500 || a.status === 408 || a.status === 429);
      this.sample(targetKey(target), failed ? Math.max(a.ms, this.#failurePenaltyMs) : a.ms, now);
    }
  }

  /** Adds one latency sample (ms) for a target key. */
  sample(key: string, ms: number, now = this.#now()): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const e = this.#latency.get(key);
    const ewma = e === undefined || e.ewma === undefined || e.probe ? ms : this.#alpha * ms + (1 - this.#alpha) * e.ewma;
    this.#setLatency(key, { ewma, at: now, probe: false });
  }

  #setLatency(key: string, entry: LatencyEntry): void {
    // Delete and re-insert: the map's order is then least recently updated first, and that one goes.
    if (!this.#latency.delete(key) && this.#latency.size >= this.#maxKeys) this.#latency.delete(this.#latency.keys().next().value!);
    this.#latency.set(key, entry);
  }

  /** The moving average (ms) for a target key, if any. */
  latency(key: string): number | undefined {
    return this.#latency.get(key)?.ewma;
  }

  /** Requests in flight on a target key. */
  inflight(key: string): number {
    return this.#inflight.get(key) ?? 0;
  }

  /** How many keys the statistics hold (latency, in flight). */
  get size(): { latency: number; inflight: number } {
    return { latency: this.#latency.size, inflight: this.#inflight.size };
  }
}

/** What can be wrong without a request: the policy, the weights, no child that can ever be picked. */
export function validateLoadbalance(node: ConfigNode, path: string): void {
  policyOf(node, path);
  const children = node.targets ?? [];
  let any = false;
  for (let i = 0; i < children.length; i++) if (weightOf(children[i]!, path, i) > 0) any = true;
  if (!any) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${path}.targets: all weights are zero, so loadbalance can never pick a target (a weight of 0 means never; the default is 1)`,
      `${path}.targets`,
    );
  }
}

function policyOf(node: ConfigNode, path: string): Policy {
  const p = node.strategy?.policy;
  if (p === undefined) return 'weighted';
  if (typeof p === 'string' && (POLICIES as readonly string[]).includes(p)) return p as Policy;
  throw badRequest(
    ErrorCode.INVALID_CONFIG,
    `${path}.strategy.policy ${JSON.stringify(p)} is not a loadbalance policy (one of ${POLICIES.join(', ')})`,
    `${path}.strategy.policy`,
  );
}

function weightOf(child: ConfigNode, path: string, i: number): number {
  const w = child.weight;
  if (w === undefined) return 1;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets[${i}].weight must be a number >= 0`, `${path}.targets[${i}].weight`);
  }
  return w;
}
