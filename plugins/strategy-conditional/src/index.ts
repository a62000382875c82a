import { definePlugin, pluginManifest, badRequest, ErrorCode, SelectTargetStage } from '@waygate/core';
import type { ConfigNode, RequestContext, RoutingStrategy, StrategyConfig } from '@waygate/core';
import { compileQuery, QueryError } from './query.js';
import type { Predicate, QueryRoot } from './query.js';

export { compileQuery, compilePath, compileCondition, compare, deepEqual, QueryError, ROOTS, OPERATORS, regexCacheSize } from './query.js';
export type { Predicate, QueryRoot } from './query.js';

interface Compiled {
  /** The targets the names were resolved against (a node's strategy and targets travel together). */
  targets: ConfigNode[] | undefined;
  rules: Array<{ test: Predicate; index: number }>;
  defaultIndex: number | undefined;
}

/**
 * Compiled conditions by the strategy object that holds them: a file config's nodes are compiled
 * once; a request's config (parsed per request) is compiled when it is first seen.
 */
const compiledByStrategy = new WeakMap<StrategyConfig, Compiled>();

/** Checks a conditional node's conditions and default and compiles them. Throws a 400 naming what is wrong. */
export function compileConditional(node: ConfigNode, path: string): Compiled {
  const strategy = node.strategy!;
  const cached = compiledByStrategy.get(strategy);
  if (cached !== undefined && cached.targets === node.targets) return cached;

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
      test = compileQuery(c.query, `${at}.query`);
    } catch (err) {
      if (err instanceof QueryError) throw badRequest(ErrorCode.INVALID_CONFIG, err.message, at);
      throw err;
    }
    rules.push({ test, index: resolve(c.then, `${at}.then`) });
  });
  const defaultIndex = strategy.default === undefined ? undefined : resolve(strategy.default, `${path}.strategy.default`);
  const compiled: Compiled = { targets: node.targets, rules, defaultIndex };
  compiledByStrategy.set(strategy, compiled);
  return compiled;
}

/** What a query sees: the request's metadata, its body as `params` ({} without one) and `url.pathname`. */
export function queryRoot(ctx: RequestContext): QueryRoot {
  return { metadata: ctx.metadata ?? {}, params: ctx.body ?? {}, url: { pathname: ctx.path } };
}

/** The index of the target a conditional node selects for a request. Throws a 400 when nothing matches and there is no default. */
export function selectIndex(node: ConfigNode, ctx: RequestContext, path: string): number {
  const compiled = compileConditional(node, path);
  if (compiled.rules.length > 0) {
    const root = queryRoot(ctx);
    for (const rule of compiled.rules) if (rule.test(root)) return rule.index;
  }
  if (compiled.defaultIndex !== undefined) return compiled.defaultIndex;
  throw badRequest(
    ErrorCode.INVALID_CONFIG,
    `${path}: no condition matched this request and there is no default (set ${path}.strategy.default)`,
    `${path}.strategy.conditions`,
  );
}

/**
 * `strategy.mode: "conditional"`: the first condition whose query matches names the target (by its
 * `name`); else `strategy.default`; else a 400. The selected target's expansion is the plan.
 */
export const conditionalStrategy: RoutingStrategy = {
  mode: 'conditional',
  validate(node, path) {
    compileConditional(node, path);
  },
  plan(node, ctx, expand, path) {
    if (!node.targets || node.targets.length === 0) {
      throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.targets: strategy "conditional" needs at least one target`, `${path}.targets`);
    }
    return expand(selectIndex(node, ctx, path));
  },
};

const manifest = pluginManifest(import.meta.url, 'strategy');

export default definePlugin({
  manifest,
  setup(api) {
    api.hooks.selectTarget.for(conditionalStrategy.mode).tap(SelectTargetStage.STRATEGY, conditionalStrategy.plan);
    // Conditions and target names are checked where configs are checked, not per request.
    api.addConfigCheck((node, path) => {
      if (node.strategy?.mode === conditionalStrategy.mode) compileConditional(node, path);
    });
  },
});
