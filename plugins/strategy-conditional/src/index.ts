import { z } from 'zod';
import { definePlugin, pluginManifest, badRequest, ErrorCode, SelectTargetStage } from '@waygate/core';
import type { ConfigNode, RequestContext, RoutingStrategy, StrategyConfig } from '@waygate/core';
import { RegexEngineSchema, RegexLimitsSchema, RegexMeter, WorkLimitSchema } from '@waygate/safe-regex';
import { compileQuery, QueryError } from './query.js';
import type { Predicate, QueryOptions, QueryRoot } from './query.js';

export { compileQuery, compilePath, compileCondition, compare, deepEqual, QueryError, ROOTS, OPERATORS, regexCacheSize } from './query.js';
export type { Predicate, QueryOptions, QueryRoot } from './query.js';

/** The plugin's options (its entry's `options` in the config file). */
export const ConditionalOptionsSchema = z.strictObject({
  /**
   * The engine of the `$regex` patterns in the config file's `routing`: `re2` (the default; linear
   * time, RE2 syntax) or `javascript` (RegExp: lookaround and backreferences, and backtracking).
   * A config sent with a request always uses `re2`.
   */
  regexEngine: RegexEngineSchema,
  /** Pattern limits: `maxLength` (1000 characters), `maxProgramSize` (2000 instructions). */
  regex: RegexLimitsSchema.prefault({}),
  /** Regex work one request's own config may cost (pattern size × characters tested, summed). */
  regexWorkLimit: WorkLimitSchema,
});
export type ConditionalOptions = z.output<typeof ConditionalOptionsSchema>;

interface Compiled {
  /** The targets the names were resolved against (a node's strategy and targets travel together). */
  targets: ConfigNode[] | undefined;
  rules: Array<{ test: Predicate; index: number }>;
  defaultIndex: number | undefined;
  /** Whether the conditions come from the config file (no work budget, and the operator's regex engine). */
  trusted: boolean;
}

/**
 * Conditional routing under one set of options. Compiled conditions are kept by the strategy object
 * that holds them: a file config's nodes are compiled once; a request's config (cached by the core
 * per distinct header) when it is first seen. The config file's conditional nodes are known by
 * identity (the strategy objects of `fileRouting`), so nothing a request sends can pass for them.
 */
export class ConditionalRouter {
  readonly #compiled = new WeakMap<StrategyConfig, Compiled>();
  readonly #file = new WeakSet<StrategyConfig>();
  readonly #meters = new WeakMap<RequestContext, RegexMeter>();
  readonly #fileQuery: QueryOptions;
  readonly #requestQuery: QueryOptions;
  readonly #workLimit: number;
  readonly strategy: RoutingStrategy;

  constructor(options: Partial<z.input<typeof ConditionalOptionsSchema>> = {}, fileRouting?: ConfigNode) {
    const o = ConditionalOptionsSchema.parse(options);
    this.#fileQuery = { engine: o.regexEngine, limits: o.regex };
    this.#requestQuery = { engine: 're2', limits: o.regex };
    this.#workLimit = o.regexWorkLimit;
    const walk = (n: ConfigNode): void => {
      if (n.strategy) this.#file.add(n.strategy);
      n.targets?.forEach(walk);
    };
    if (fileRouting) walk(fileRouting);
    this.strategy = {
      mode: 'conditional',
      validate: (node, path) => void this.compile(node, path),
      plan: (node, ctx, expand, path) => {
        if (!node.targets || node.targets.length === 0) {
          throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets: strategy "conditional" needs at least one target`, `${path}.targets`);
        }
        return expand(this.selectIndex(node, ctx, path));
      },
    };
  }

  /** Checks a conditional node's conditions and default and compiles them. Throws a 400 naming what is wrong. */
  compile(node: ConfigNode, path: string): Compiled {
    const strategy = node.strategy!;
    const cached = this.#compiled.get(strategy);
    if (cached !== undefined && cached.targets === node.targets) return cached;
    const trusted = this.#file.has(strategy);
    const queryOptions = trusted ? this.#fileQuery : this.#requestQuery;

    const targets = node.targets ?? [];
    const names = new Map<string, number>();
    targets.forEach((t, i) => {
      if (typeof t.name === 'string' && !names.has(t.name)) names.set(t.name, i);
    });
    const known = () => (names.size ? [...names.keys()].map((n) => JSON.stringify(n)).join(', ') : 'none: give targets a "name"');
    const resolve = (name: unknown, where: string): number => {
      if (typeof name !== 'string' || name === '') throw badRequest(ErrorCode.INVALID_CONFIG, `${where} must name a target`, where);
      const index = names.get(name);
      if (index === undefined) {
        throw badRequest(
          ErrorCode.INVALID_CONFIG,
          `${where} names target ${JSON.stringify(name)}, but no target of ${path} has that name (names: ${known()})`,
          where,
        );
      }
      return index;
    };

    const conditions = strategy.conditions ?? [];
    if (!Array.isArray(conditions)) {
      throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.strategy.conditions must be a list of {query, then}`, `${path}.strategy.conditions`);
    }
    const rules: Compiled['rules'] = [];
    conditions.forEach((c, i) => {
      const at = `${path}.strategy.conditions[${i}]`;
      if (c === null || typeof c !== 'object' || Array.isArray(c)) throw badRequest(ErrorCode.INVALID_CONFIG, `${at} must be an object {query, then}`, at);
      let test: Predicate;
      try {
        test = compileQuery(c.query, `${at}.query`, queryOptions);
      } catch (err) {
        if (err instanceof QueryError) throw badRequest(ErrorCode.INVALID_CONFIG, err.message, at);
        throw err;
      }
      rules.push({ test, index: resolve(c.then, `${at}.then`) });
    });
    const defaultIndex = strategy.default === undefined ? undefined : resolve(strategy.default, `${path}.strategy.default`);
    const compiled: Compiled = { targets: node.targets, rules, defaultIndex, trusted };
    this.#compiled.set(strategy, compiled);
    return compiled;
  }

  /** The index of the target a conditional node selects for a request. Throws a 400 when nothing matches and there is no default. */
  selectIndex(node: ConfigNode, ctx: RequestContext, path: string): number {
    const compiled = this.compile(node, path);
    if (compiled.rules.length > 0) {
      const root = queryRoot(ctx, compiled.trusted ? undefined : this.#meter(ctx));
      for (const [i, rule] of compiled.rules.entries()) {
        let hit: boolean;
        try {
          hit = rule.test(root);
        } catch (err) {
          // A request's regex work over its budget: a 400 naming the operator.
          if (err instanceof QueryError) throw badRequest(ErrorCode.INVALID_CONFIG, err.message, `${path}.strategy.conditions[${i}]`);
          throw err;
        }
        if (hit) return rule.index;
      }
    }
    if (compiled.defaultIndex !== undefined) return compiled.defaultIndex;
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${path}: no condition matched this request and there is no default (set ${path}.strategy.default)`,
      `${path}.strategy.conditions`,
    );
  }

  /** One budget per request, shared by every conditional node of its config. */
  #meter(ctx: RequestContext): RegexMeter {
    let m = this.#meters.get(ctx);
    if (!m) this.#meters.set(ctx, (m = new RegexMeter(this.#workLimit)));
    return m;
  }
}

/** The router with the default options, behind the functions below (every config is a request's to it). */
const defaultRouter = new ConditionalRouter();

/** Checks a conditional node's conditions and default and compiles them (default options). Throws a 400 naming what is wrong. */
export function compileConditional(node: ConfigNode, path: string): Compiled {
  return defaultRouter.compile(node, path);
}

/** What a query sees: the request's metadata, its body as `params` ({} without one) and `url.pathname`; and the regex budget. */
export function queryRoot(ctx: RequestContext, meter?: RegexMeter): QueryRoot {
  return { metadata: ctx.metadata ?? {}, params: ctx.body ?? {}, url: { pathname: ctx.path }, meter };
}

/** The index of the target a conditional node selects for a request (default options). */
export function selectIndex(node: ConfigNode, ctx: RequestContext, path: string): number {
  return defaultRouter.selectIndex(node, ctx, path);
}

/**
 * `strategy.mode: "conditional"` (default options): the first condition whose query matches names
 * the target (by its `name`); else `strategy.default`; else a 400. The selected target's expansion is the plan.
 */
export const conditionalStrategy: RoutingStrategy = defaultRouter.strategy;

const manifest = pluginManifest(import.meta.url, 'strategy');

export default definePlugin({
  manifest,
  configSchema: ConditionalOptionsSchema,
  setup(api, options) {
    const router = new ConditionalRouter(options, api.config.routing);
    api.hooks.selectTarget.for(router.strategy.mode).tap(SelectTargetStage.STRATEGY, router.strategy.plan);
    // Conditions and target names are checked where configs are checked, not per request.
    api.addConfigCheck((node, path) => {
      if (node.strategy?.mode === router.strategy.mode) router.compile(node, path);
    });
  },
});
