import { definePlugin, pluginManifest, AfterResponseStage, OnErrorStage, RequestSlot, targetKey, redactUrl } from '@waygate/core';
import type { GatewayError, GatewayResponse, RequestContext, Target } from '@waygate/core';
import { BreakerOptionsSchema, breakerOptions } from './options.js';
import type { BreakerOptions, BreakerOptionsInput } from './options.js';
import { MemoryStore } from './memory.js';
import type { Clock } from './memory.js';
import { RedisStore } from './redis.js';
import type { MiniLogger } from './redis.js';
import { countsAsFailure } from './types.js';
import type { BreakerStore, CircuitState, StateChange } from './types.js';

export { BreakerOptionsSchema, breakerOptions } from './options.js';
export type { BreakerOptions, BreakerOptionsInput } from './options.js';
export { MemoryStore, WINDOW_BUCKETS } from './memory.js';
export type { Clock, MemoryStoreDeps } from './memory.js';
export { RedisStore } from './redis.js';
// Kept in this package's exports for its users; the one implementation is the core's.
export { redactUrl } from '@waygate/core';
export type { RedisStoreDeps, MiniLogger } from './redis.js';
export { countsAsFailure } from './types.js';
export type { Admission, BreakerStore, CircuitState, StateChange } from './types.js';

const manifest = pluginManifest(import.meta.url, 'policy');

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Per-request bookkeeping: the half-open probe slots this request reserved and not yet used. */
interface RequestState {
  probes: string[];
}

export interface BreakerDeps {
  /** Monotonic milliseconds (tests pass a fake clock). Default performance.now. */
  now?: Clock;
  /** Where state changes and Redis trouble are logged (warn on open, info on close). */
  logger?: MiniLogger & { debug?(obj: object, msg: string): void };
  /** Environment for REDIS_URL. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for a Redis connection to open. Default: the `redisConnectTimeoutMs` option. */
  connectTimeoutMs?: number;
}

/**
 * A circuit breaker over targets: what the plugin's hooks call, usable on its own in tests. Targets
 * are told apart by `targetKey` (provider, base URL, key hash).
 */
export class CircuitBreaker {
  readonly options: BreakerOptions;
  readonly store: BreakerStore;
  /** Each target's state as last changed here or seen shared, for metrics; as many as the store keeps. */
  readonly states = new Map<string, CircuitState>();

  constructor(options: BreakerOptionsInput | BreakerOptions = {}, deps: BreakerDeps = {}) {
    this.options = breakerOptions(options);
    const logger = deps.logger;
    const onChange = (change: StateChange) => {
      logChange(logger, change);
      this.#seen(change);
    };
    if (this.options.store === 'redis') {
      const url = this.options.redisUrl ?? (deps.env ?? process.env).REDIS_URL ?? DEFAULT_REDIS_URL;
      this.store = new RedisStore(this.options, url, { now: deps.now, logger, onChange, connectTimeoutMs: deps.connectTimeoutMs });
    } else {
      this.store = new MemoryStore(this.options, { now: deps.now, onChange });
    }
  }

  #seen(change: StateChange): void {
    this.states.delete(change.key);
    if (this.states.size >= this.options.maxTargets) this.states.delete(this.states.keys().next().value!);
    this.states.set(change.key, change.to);
  }

  /** Resolves when the store is ready to share state (Redis connected), false when it decides locally. */
  async ready(): Promise<boolean> {
    return this.store instanceof RedisStore ? this.store.ready() : true;
  }

  /**
   * The availability check: may this request plan the target? Synchronous and O(1). In half-open it
   * reserves a probe slot for the request, given back when the request ends without using it.
   */
  admit(target: Target, ctx?: RequestContext): boolean {
    const key = targetKey(target);
    const verdict = this.store.admit(key);
    if (verdict === 'deny') return false;
    if (verdict === 'probe') {
      if (ctx) requestState(ctx).probes.push(key);
      // Without a request to hold it, the slot is used at once (direct callers, tests).
    }
    return true;
  }

  /** The state of a target's circuit as this process sees it. */
  state(target: Target): CircuitState {
    return this.store.state(targetKey(target));
  }

  isOpen(target: Target): boolean {
    return this.state(target) === 'open';
  }

  /** onError: counts a failed attempt against its target (4xx other than 408/429 do not count). */
  onError(err: GatewayError, ctx: RequestContext): void {
    const target = ctx.target;
    if (!target || !countsAsFailure(err)) return;
    const key = targetKey(target);
    this.store.record(key, true);
    usedProbe(ctx, key);
  }

  /** afterResponse: a success for the target that answered; gives back probe slots the request did not use. */
  afterResponse(res: GatewayResponse, ctx: RequestContext): void {
    const target = ctx.target;
    if (target && res.source === 'upstream' && res.status < 400) {
      const key = targetKey(target);
      this.store.record(key, false);
      usedProbe(ctx, key);
    }
    const held = probesHeld.get(ctx);
    if (held && held.probes.length) for (const key of held.probes.splice(0)) this.store.release(key);
  }

  idle(): Promise<void> {
    return this.store.idle();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The probe slots a request holds. */
const probesHeld = new RequestSlot<RequestState>('@waygate/circuit-breaker');

function requestState(ctx: RequestContext): RequestState {
  let s = probesHeld.get(ctx);
  if (s === undefined) probesHeld.set(ctx, (s = { probes: [] }));
  return s;
}

function usedProbe(ctx: RequestContext, key: string): void {
  const held = probesHeld.get(ctx);
  if (!held) return;
  const i = held.probes.indexOf(key);
  if (i !== -1) held.probes.splice(i, 1);
}

function logChange(logger: BreakerDeps['logger'], c: StateChange): void {
  if (!logger) return;
  const fields = { target: c.key, from: c.from, to: c.to, reason: c.reason, ...(c.shared ? { shared: true } : {}) };
  if (c.to === 'open') logger.warn(fields, 'circuit opened: the target is skipped until the cooldown passes');
  else if (c.to === 'closed') logger.info(fields, 'circuit closed: the target is used again');
  else logger.debug?.(fields, 'circuit half-open: probing the target');
}

export default definePlugin({
  manifest,
  configSchema: BreakerOptionsSchema,
  async setup(api, options) {
    const logger = api.logger;
    const breaker = new CircuitBreaker(options, { logger });
    api.onClose(() => breaker.close());
    if (options.store === 'redis') {
      const shared = await breaker.ready();
      const url = redactUrl(options.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL);
      if (shared) logger.info({ redis: url, syncIntervalMs: options.syncIntervalMs }, 'circuit breaker state is shared through Redis');
    }
    api.register.availabilityCheck((target, ctx) => breaker.admit(target, ctx));
    // What @waygate/metrics exposes as waygate_circuit_state.
    api.registry<() => ReadonlyMap<string, CircuitState>>('circuit-states').register('circuit-breaker', () => breaker.states);
    api.hooks.onError.tap(OnErrorStage.CIRCUIT_BREAKER, (err, ctx) => {
      breaker.onError(err, ctx);
      return undefined;
    });
    api.hooks.afterResponse.tap(AfterResponseStage.USAGE, (res, ctx) => {
      breaker.afterResponse(res, ctx);
      return res;
    });
  },
});
