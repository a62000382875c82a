import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook, HookMap, SyncBailHook } from 'tapable';
import type { RequestContext } from './context.js';
import type { GatewayResponse } from './response.js';
import type { ConfigNode, PlannedTarget } from './types.js';
import type { ErrorDecision } from './contracts.js';
import { GatewayError } from './errors.js';

/**
 * A routing strategy's answer for one node of a routing config (`strategy.mode`): the ordered targets
 * to try. `expand(i)` expands the node's i-th child, with everything inherited folded in, whatever
 * its own strategy is: that is what lets strategies from different packages nest to any depth. A
 * child whose targets are all unavailable (an open circuit) expands to an empty list.
 */
export type StrategyTap = (node: ConfigNode, ctx: RequestContext, expand: (index: number) => PlannedTarget[], path: string) => PlannedTarget[] | undefined;

/**
 * The four hook points of the kernel, declared once, here. Plugins tap them in `setup()`, at boot,
 * never per request (tapable compiles a dispatcher on the first call after a tap). In the bail hooks,
 * return `undefined` to pass; any other value (null too) ends the hook with that value.
 */
export interface Hooks {
  /** Before routing. Return a response to answer early (cache hit, guardrail deny); throw a GatewayError to reject. */
  beforeRequest: AsyncSeriesBailHook<[RequestContext], GatewayResponse | undefined>;
  /**
   * Routing, keyed by a config node's `strategy.mode`: the strategy tapped for that mode returns the
   * node's ordered targets. The kernel walks the config tree once per request and calls the hook of
   * each node's mode; a tap at an earlier stage answers before the bundled strategy of that mode.
   */
  selectTarget: HookMap<SyncBailHook<Parameters<StrategyTap>, PlannedTarget[] | undefined>>;
  /** Sees every response before it is written; returns it or a replacement (redacted body, wrapped stream). */
  afterResponse: AsyncSeriesWaterfallHook<[GatewayResponse, RequestContext]>;
  /** An attempt failed: returns what to do next (retry, next target, fail, or a response), or undefined to defer. */
  onError: AsyncSeriesBailHook<[GatewayError, RequestContext], ErrorDecision | undefined>;
}

export type HookName = keyof Hooks;
export const HOOK_NAMES: readonly HookName[] = Object.freeze(['beforeRequest', 'selectTarget', 'afterResponse', 'onError']);

/**
 * Named stages, one table per hook: a lower stage runs first. No two names of a hook share a value,
 * and a tap takes one of these names, never a number of its own. The core's own defaults are
 * ordinary taps at CORE_DEFAULT, so any plugin can answer before them.
 */
export const BeforeRequestStage = Object.freeze({
  AUTH: -500,
  /**
   * With a tap at AUTH, the kernel resolves the request's routing config here, before the plugins' taps
   * of this stage (headers, an auth grant, the file's); without one, before the hook. Taps from here on may plan.
   */
  CONFIG: -450,
  RATE_LIMIT: -400,
  GUARDRAIL_INPUT: -300,
  CACHE_LOOKUP: -200,
  NORMAL: 0,
} as const);

export const SelectTargetStage = Object.freeze({
  /** Answers before the bundled strategy of the same mode (a replacement strategy). */
  OVERRIDE: -100,
  STRATEGY: 0,
} as const);

export const AfterResponseStage = Object.freeze({
  /** Ends per-request bookkeeping (in-flight counts) before any other tap could throw. */
  RELEASE: -400,
  GUARDRAIL_OUTPUT: -300,
  CACHE_STORE: -200,
  NORMAL: 0,
  USAGE: 100,
  LOG: 200,
} as const);

export const OnErrorStage = Object.freeze({
  /** Sees every failed attempt first and passes (probes, metrics). */
  OBSERVE: -500,
  CIRCUIT_BREAKER: -400,
  RETRY: -100,
  FALLBACK: 0,
  NORMAL: 100,
  CORE_DEFAULT: 1000,
} as const);

type ValueOf<T> = T[keyof T];
export type BeforeRequestStage = ValueOf<typeof BeforeRequestStage>;
export type SelectTargetStage = ValueOf<typeof SelectTargetStage>;
export type AfterResponseStage = ValueOf<typeof AfterResponseStage>;
export type OnErrorStage = ValueOf<typeof OnErrorStage>;

type MaybePromise<T> = T | Promise<T>;

/** A hook as a plugin sees it: tap only (no call, no intercept), with a named stage. */
export interface TapOnly<Stage extends number, Args extends unknown[], R> {
  /** A synchronous tap. */
  tap(stage: Stage, fn: (...args: Args) => R): void;
  /**
   * An asynchronous tap: `fn` returns a promise, or `undefined` at once when it has nothing to do for
   * this request (it passes, and no promise is made for it: cheaper than an async function's).
   */
  tapPromise(stage: Stage, fn: (...args: Args) => Promise<R> | undefined): void;
}

/** The four hooks as a plugin's setup() sees them (its scoped view: see `PluginApi.hooks`). */
export interface PluginHooks {
  readonly beforeRequest: TapOnly<BeforeRequestStage, [RequestContext], MaybePromise<GatewayResponse | undefined>>;
  readonly selectTarget: {
    /** The hook for one `strategy.mode`. */
    for(mode: string): { tap(stage: SelectTargetStage, fn: StrategyTap): void };
  };
  readonly afterResponse: TapOnly<AfterResponseStage, [GatewayResponse, RequestContext], GatewayResponse>;
  readonly onError: TapOnly<OnErrorStage, [GatewayError, RequestContext], ErrorDecision | undefined>;
}

export function createHooks(): Hooks {
  const hooks: Hooks = {
    beforeRequest: new AsyncSeriesBailHook(['ctx']),
    selectTarget: new HookMap(() => new SyncBailHook(['node', 'ctx', 'expand', 'path'])),
    afterResponse: new AsyncSeriesWaterfallHook(['response', 'ctx']),
    onError: new AsyncSeriesBailHook(['error', 'ctx']),
  };
  for (const name of HOOK_NAMES) {
    if (name === 'selectTarget') hooks.selectTarget.intercept({ factory: (_key, hook) => (attachErrorNaming(hook as never, name), hook!) });
    else attachErrorNaming(hooks[name] as never, name);
  }
  return hooks;
}

interface TapLike {
  name: string;
  type: 'sync' | 'async' | 'promise';
  fn: (...args: unknown[]) => unknown;
}
interface AnyHook {
  intercept(interceptor: { register?: (tap: TapLike) => TapLike }): void;
  tap(options: { name: string; stage: number }, fn: (...args: unknown[]) => unknown): void;
  tapPromise(options: { name: string; stage: number }, fn: (...args: unknown[]) => Promise<unknown>): void;
  taps: TapLike[];
}

/**
 * An interceptor that wraps every tap so that whatever it throws carries the plugin's name (the
 * tap's name, which the plugin's view sets) and the hook's name.
 */
const PASSED = Promise.resolve(undefined);
function attachErrorNaming(hook: AnyHook, hookName: HookName): void {
  hook.intercept({
    register(tap) {
      const where = { plugin: tap.name, hook: hookName };
      const fn = tap.fn;
      const promised = tap.type === 'promise';
      tap.fn = (...args: unknown[]) => {
        try {
          const out = fn(...args);
          if (!promised) return out;
          if (out === undefined) return PASSED;
          if (typeof (out as Promise<unknown> | undefined)?.then !== 'function')
            throw new Error('tapPromise handler returned neither a promise nor undefined');
          return (out as Promise<unknown>).catch((err: unknown) => Promise.reject(GatewayError.from(err, where)));
        } catch (err) {
          if (promised) return Promise.reject(GatewayError.from(err, where));
          throw GatewayError.from(err, where);
        }
      };
      return tap;
    },
  });
}

const sealedHooks = new WeakSet<Hooks>();
const tappedModes = new WeakMap<Hooks, Set<string>>();

/** The strategy modes some plugin tapped `selectTarget` for, in the order first tapped. */
export const strategyModes = (hooks: Hooks): readonly string[] => [...(tappedModes.get(hooks) ?? [])];

/**
 * The hooks as one plugin sees them: taps attributed to `plugin`, refused once the kernel is sealed,
 * and nothing else of tapable (no call, no intercept).
 */
export function pluginHooks(hooks: Hooks, plugin: string): PluginHooks {
  const guard = (name: string) => {
    if (sealedHooks.has(hooks)) throw new Error(`${plugin}: the ${name} hook is sealed: plugins tap hooks in setup(), at start-up, never later`);
  };
  const view = <S extends number, A extends unknown[], R>(hook: AnyHook, name: HookName): TapOnly<S, A, R> =>
    Object.freeze({
      tap(stage: S, fn: (...args: A) => R) {
        guard(name);
        hook.tap({ name: plugin, stage }, fn as (...args: unknown[]) => unknown);
      },
      tapPromise(stage: S, fn: (...args: A) => Promise<R> | undefined) {
        guard(name);
        hook.tapPromise({ name: plugin, stage }, fn as (...args: unknown[]) => Promise<unknown>);
      },
    });
  return Object.freeze({
    beforeRequest: view(hooks.beforeRequest as unknown as AnyHook, 'beforeRequest'),
    selectTarget: Object.freeze({
      for(mode: string) {
        if (typeof mode !== 'string' || mode.length === 0) throw new Error(`${plugin}: a strategy mode is a non-empty string`);
        return Object.freeze({
          tap(stage: SelectTargetStage, fn: StrategyTap) {
            guard('selectTarget');
            hooks.selectTarget.for(mode).tap({ name: plugin, stage }, fn);
            let modes = tappedModes.get(hooks);
            if (!modes) tappedModes.set(hooks, (modes = new Set()));
            modes.add(mode);
          },
        });
      },
    }),
    afterResponse: view(hooks.afterResponse as unknown as AnyHook, 'afterResponse'),
    onError: view(hooks.onError as unknown as AnyHook, 'onError'),
  }) as PluginHooks;
}

/**
 * After start-up no plugin may tap or intercept: the hooks' dispatchers are compiled once and kept,
 * and the hooks object is frozen.
 */
export function sealHooks(hooks: Hooks): void {
  sealedHooks.add(hooks);
  const refuse = (name: string) => () => {
    throw new Error(`The ${name} hook is sealed: plugins tap hooks in setup(), at start-up, never later`);
  };
  const lock = (hook: object, name: string) => {
    for (const method of ['tap', 'tapAsync', 'tapPromise', 'intercept']) (hook as Record<string, unknown>)[method] = refuse(name);
  };
  for (const name of HOOK_NAMES) {
    if (name === 'selectTarget') {
      for (const mode of strategyModes(hooks)) lock(hooks.selectTarget.get(mode)!, `selectTarget(${mode})`);
      (hooks.selectTarget as unknown as Record<string, unknown>).for = refuse(name);
      (hooks.selectTarget as unknown as Record<string, unknown>).intercept = refuse(name);
    } else lock(hooks[name], name);
  }
  Object.freeze(hooks);
}

/**
 * The shape a strategy package exports for one `strategy.mode`: the tap it puts on
 * `selectTarget.for(mode)`, and an optional check of a node of that mode (unknown options,
 * impossible weights) that its setup() adds with `api.addConfigCheck`.
 */
export interface RoutingStrategy {
  mode: string;
  plan: StrategyTap;
  validate?(node: ConfigNode, path: string): void;
}
