import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { RequestContext } from './context.js';
import type { GatewayResponse } from './response.js';
import type { RoutePlan, ErrorDecision } from './types.js';
import { GatewayError } from './errors.js';

/**
 * The four hook points of the kernel, declared once, here. Plugins tap them in `setup()`, at boot,
 * never per request (tapable compiles a dispatcher on the first call after a tap). In the bail hooks,
 * return `undefined` to pass; any other value (null too) ends the hook with that value.
 */
export interface Hooks {
  /** Before routing. Return a response to answer early (cache hit, guardrail deny); throw a GatewayError to reject. */
  beforeRequest: AsyncSeriesBailHook<[RequestContext], GatewayResponse | undefined>;
  /** Returns the route plan: the ordered targets to try and each one's policy. The first tap that returns a plan wins. */
  selectTarget: AsyncSeriesBailHook<[RequestContext], RoutePlan | undefined>;
  /** Sees every response before it is written; returns it or a replacement (redacted body, wrapped stream). */
  afterResponse: AsyncSeriesWaterfallHook<[GatewayResponse, RequestContext]>;
  /** An attempt failed: returns what to do next (retry, next target, fail, or a response), or undefined to defer. */
  onError: AsyncSeriesBailHook<[GatewayError, RequestContext], ErrorDecision | undefined>;
}

export type HookName = keyof Hooks;
export const HOOK_NAMES: readonly HookName[] = Object.freeze(['beforeRequest', 'selectTarget', 'afterResponse', 'onError']);

/**
 * Named stages, one table for every hook: a lower stage runs first. The core's own defaults are
 * ordinary taps at CORE_DEFAULT, so any plugin can answer before them.
 *
 * | hook          | stages used, in order                                                      |
 * |---------------|----------------------------------------------------------------------------|
 * | beforeRequest | AUTH, RATE_LIMIT, GUARDRAIL_INPUT, CACHE_LOOKUP, NORMAL                     |
 * | selectTarget  | ROUTING_OVERRIDE, STRATEGY, CORE_DEFAULT                                     |
 * | afterResponse | GUARDRAIL_OUTPUT, CACHE_STORE, NORMAL, USAGE, LOG                          |
 * | onError       | CIRCUIT_BREAKER, RETRY, FALLBACK, NORMAL, CORE_DEFAULT                       |
 */
export const Stage = Object.freeze({
  AUTH: -500,
  RATE_LIMIT: -400,
  CIRCUIT_BREAKER: -400,
  GUARDRAIL_INPUT: -300,
  GUARDRAIL_OUTPUT: -300,
  ROUTING_OVERRIDE: -200,
  CACHE_LOOKUP: -200,
  CACHE_STORE: -200,
  RETRY: -100,
  STRATEGY: 0,
  FALLBACK: 0,
  NORMAL: 0,
  USAGE: 100,
  LOG: 200,
  CORE_DEFAULT: 1000,
});

/** Which plugin is tapping right now; set by the loader around each plugin's setup(). */
export interface TapOwner {
  current: string | undefined;
}

export function createHooks(owner: TapOwner): Hooks {
  const hooks: Hooks = {
    beforeRequest: new AsyncSeriesBailHook(['ctx']),
    selectTarget: new AsyncSeriesBailHook(['ctx']),
    afterResponse: new AsyncSeriesWaterfallHook(['response', 'ctx']),
    onError: new AsyncSeriesBailHook(['error', 'ctx']),
  };
  for (const name of HOOK_NAMES) attachErrorNaming(hooks[name] as unknown as AnyHook, name, owner);
  return hooks;
}

interface TapLike {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: (...args: unknown[]) => unknown;
}
interface AnyHook {
  intercept(interceptor: { register?: (tap: TapLike) => TapLike }): void;
  tap: unknown;
  tapAsync: unknown;
  tapPromise: unknown;
  intercept_: unknown;
  taps: TapLike[];
}

/**
 * An interceptor that wraps every tap so that whatever it throws carries the plugin's name and the
 * hook's name. The plugin is the one whose setup() made the tap (falling back to the tap's name).
 */
function attachErrorNaming(hook: AnyHook, hookName: HookName, owner: TapOwner): void {
  hook.intercept({
    register(tap) {
      const plugin = owner.current ?? tap.name;
      const where = { plugin, hook: hookName };
      const fn = tap.fn;
      if (tap.type === 'promise') {
        tap.fn = (...args: unknown[]) => {
          let out: unknown;
          try {
            out = fn(...args);
          } catch (err) {
            return Promise.reject(GatewayError.from(err, where));
          }
          if (!out || typeof (out as Promise<unknown>).then !== 'function') {
            return Promise.reject(
              GatewayError.from(new Error('tapPromise handler did not return a promise'), where),
            );
          }
          return (out as Promise<unknown>).catch((err: unknown) => {
            throw GatewayError.from(err, where);
          });
        };
      } else if (tap.type === 'async') {
        tap.fn = (...args: unknown[]) => {
          const cb = args[args.length - 1] as (err?: unknown, res?: unknown) => void;
          const rest = args.slice(0, -1);
          try {
            fn(...rest, (err?: unknown, res?: unknown) => (err ? cb(GatewayError.from(err, where)) : cb(undefined, res)));
          } catch (err) {
            cb(GatewayError.from(err, where));
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          try {
            return fn(...args);
          } catch (err) {
            throw GatewayError.from(err, where);
          }
        };
      }
      return tap;
    },
  });
}

/** After start-up no plugin may tap or intercept: the hooks' dispatchers are compiled once and kept. */
export function sealHooks(hooks: Hooks): void {
  for (const name of HOOK_NAMES) {
    const hook = hooks[name] as unknown as Record<string, unknown>;
    for (const method of ['tap', 'tapAsync', 'tapPromise', 'intercept']) {
      hook[method] = () => {
        throw new Error(`The ${name} hook is sealed: plugins tap hooks in setup(), at start-up, never later`);
      };
    }
  }
}
