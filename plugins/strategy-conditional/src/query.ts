import { RegexCache, SafeRegexError, checkFlags } from '@waygate/safe-regex';
import type { RegexEngine, RegexLimits, RegexMeter, SafeRegex } from '@waygate/safe-regex';

/**
 * The query language of conditional routing: a MongoDB-like subset, compiled once into predicates.
 *
 * A query is an object; every key must hold. A key is either a path (`metadata.<...>`,
 * `params.<...>`, `url.pathname`; any depth, arrays indexed by number) with a plain value (deep
 * equality) or an operator object (`$eq $ne $gt $gte $lt $lte $in $nin $regex`, with `$options` for
 * the regex flags), or `$and` / `$or` with a non-empty list of sub-queries. `$regex` patterns are
 * compiled by @waygate/safe-regex: RE2 syntax on a linear-time engine unless the options say otherwise.
 */

/** What a query sees of a request. */
export interface QueryRoot {
  metadata: Record<string, unknown>;
  params: Record<string, unknown>;
  url: { pathname: string };
  /** The request's regex work budget, for a config the request sent (none for the config file's). */
  meter?: RegexMeter;
}

/** How `$regex` patterns are compiled. */
export interface QueryOptions {
  /** `re2` (the default) or, for the operator's own config file only, `javascript`. */
  engine?: RegexEngine;
  /** Pattern length and compiled size limits (defaults: 1000 characters, 2000 instructions). */
  limits?: Partial<RegexLimits>;
}

export type Predicate = (root: QueryRoot) => boolean;

/** A query that cannot be compiled; `where` is the location inside the query (e.g. `query["params.model"].$regex`). */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

export const ROOTS = ['metadata', 'params', 'url'] as const;
export const OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$regex', '$options'] as const;

/** Compiles a query object (validating it as it goes) into a predicate. Throws QueryError. */
export function compileQuery(query: unknown, where = 'query', options: QueryOptions = {}): Predicate {
  if (!isPlainObject(query)) throw new QueryError(where, 'a query must be an object');
  const preds: Predicate[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (key === '$and' || key === '$or') {
      const at = `${where}.${key}`;
      if (!Array.isArray(value) || value.length === 0) throw new QueryError(at, `${key} must be a non-empty list of queries`);
      const subs = value.map((q, j) => compileQuery(q, `${at}[${j}]`, options));
      preds.push(key === '$and' ? (r) => subs.every((s) => s(r)) : (r) => subs.some((s) => s(r)));
    } else if (key.startsWith('$')) {
      throw new QueryError(`${where}.${key}`, `unknown operator ${JSON.stringify(key)} at the top of a query (only $and and $or)`);
    } else {
      const at = `${where}[${JSON.stringify(key)}]`;
      const get = compilePath(key, at);
      const test = compileCondition(value, at, options);
      preds.push((r) => test(get(r), r));
    }
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (r) => {
    for (const p of preds) if (!p(r)) return false;
    return true;
  };
}

/** A dotted path as a getter; undefined means missing. Only own properties are followed. */
export function compilePath(key: string, where: string): (root: QueryRoot) => unknown {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new QueryError(where, `${JSON.stringify(key)} is not a valid path (empty segment)`);
  const root = parts[0] as (typeof ROOTS)[number];
  if (!(ROOTS as readonly string[]).includes(root)) {
    throw new QueryError(where, `path ${JSON.stringify(key)} must start with one of ${ROOTS.map((r) => `${r}.`).join(', ')}`);
  }
  const rest = parts.slice(1);
  return (r) => {
    let cur: unknown = r[root];
    for (const seg of rest) {
      if (cur === null || typeof cur !== 'object') return undefined;
      if (Array.isArray(cur)) {
        if (!/^(0|[1-9]\d*)$/.test(seg)) return undefined;
        cur = cur[Number(seg)];
      } else {
        if (!Object.hasOwn(cur, seg)) return undefined;
        cur = (cur as Record<string, unknown>)[seg];
      }
    }
    return cur;
  };
}

type Test = (value: unknown, root?: QueryRoot) => boolean;

/** A key's condition: an operator object (every operator must hold) or a plain value (deep equality). */
export function compileCondition(cond: unknown, where: string, options: QueryOptions = {}): Test {
  if (!isPlainObject(cond)) return (v) => v !== undefined && deepEqual(v, cond);
  const keys = Object.keys(cond);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length === 0) return (v) => v !== undefined && deepEqual(v, cond);
  if (ops.length !== keys.length) {
    throw new QueryError(where, `an operator object cannot mix operators and plain keys (${keys.map((k) => JSON.stringify(k)).join(', ')})`);
  }
  const tests: Test[] = [];
  for (const op of ops) {
    const arg = cond[op];
    const at = `${where}.${op}`;
    switch (op) {
      case '$eq':
        tests.push((v) => v !== undefined && deepEqual(v, arg));
        break;
      case '$ne':
        tests.push((v) => v === undefined || !deepEqual(v, arg));
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        if (!((typeof arg === 'number' && Number.isFinite(arg)) || typeof arg === 'string')) {
          throw new QueryError(at, `${op} needs a number or a string`);
        }
        const ok =
          op === '$gt' ? (c: number) => c > 0 : op === '$gte' ? (c: number) => c >= 0 : op === '$lt' ? (c: number) => c < 0 : (c: number) => c <= 0;
        // NaN (incomparable) fails every comparison.
        tests.push((v) => v !== undefined && ok(compare(v, arg)));
        break;
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg)) throw new QueryError(at, `${op} needs a list`);
        const has = membership(arg);
        tests.push(op === '$in' ? (v) => v !== undefined && has(v) : (v) => v === undefined || !has(v));
        break;
      }
      case '$regex': {
        if (typeof arg !== 'string') throw new QueryError(at, '$regex needs a string (the pattern source)');
        const flags = cond.$options ?? '';
        if (typeof flags !== 'string' || !validFlags(flags)) {
          throw new QueryError(`${where}.$options`, '$options may only hold the flags i, m, s and u, each at most once');
        }
        const re = regex(arg, flags, at, options);
        tests.push((v, r) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && testRegex(re, String(v), r?.meter, at));
        break;
      }
      case '$options':
        if (cond.$regex === undefined) throw new QueryError(at, '$options goes with $regex');
        break; // read by $regex
      default:
        throw new QueryError(at, `unknown operator ${JSON.stringify(op)} (known: ${OPERATORS.join(' ')}, and $and / $or at the top of a query)`);
    }
  }
  if (tests.length === 1) return tests[0]!;
  return (v, r) => {
    for (const t of tests) if (!t(v, r)) return false;
    return true;
  };
}

/**
 * Orders two values: numerically when both are numbers or numeric strings ("10" > "9"), otherwise
 * as strings when both are strings (ISO dates compare correctly). NaN when they cannot be compared.
 */
export function compare(a: unknown, b: unknown): number {
  const x = toNumber(a);
  const y = toNumber(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return NaN;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}

function membership(list: unknown[]): (v: unknown) => boolean {
  const primitives = list.every((e) => e === null || typeof e !== 'object');
  if (primitives) {
    const set = new Set(list);
    return (v) => set.has(v);
  }
  return (v) => list.some((e) => deepEqual(v, e));
}

/** Structural equality over JSON values (strict for primitives: 1 is not "1"). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Compiled patterns, shared by every config (and gateway) in the process: each distinct pattern compiles once. Bounded. */
const regexes = new RegexCache(1000);

function validFlags(flags: string): boolean {
  try {
    checkFlags(flags);
    return true;
  } catch {
    return false;
  }
}

function regex(source: string, flags: string, where: string, options: QueryOptions): SafeRegex {
  try {
    return regexes.compile(source, flags, { ...options.limits, engine: options.engine ?? 're2' });
  } catch (err) {
    if (err instanceof SafeRegexError) throw new QueryError(where, `the pattern is ${err.message}`);
    throw err;
  }
}

/** A regex test charged to the request's budget; over it, a QueryError naming the operator. */
function testRegex(re: SafeRegex, text: string, meter: RegexMeter | undefined, where: string): boolean {
  try {
    return re.test(text, meter);
  } catch (err) {
    if (err instanceof SafeRegexError) throw new QueryError(where, `matching this value is ${err.message}`);
    throw err;
  }
}

/** How many compiled regexes are cached (for tests). */
export function regexCacheSize(): number {
  return regexes.size;
}
