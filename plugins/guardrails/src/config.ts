import { z } from 'zod';
import { ErrorCode, badRequest, formatIssues } from '@waygate/core';
import type { ConfigNode, PluginRegistry } from '@waygate/core';
import type { CheckHook, GuardrailCheck } from './checks.js';

/**
 * Guardrail configuration in Portkey's forms, parsed and checked once per config node:
 *
 * - `before_request_hooks` / `after_request_hooks`: full hook objects
 *   `{id, type: 'guardrail'|'mutator', deny, async, sequential, on_fail, on_success, checks: [{id, parameters, fail_on_error, is_enabled}]}`;
 * - `input_guardrails` / `output_guardrails` / `input_mutators` / `output_mutators`: the shorthand,
 *   objects whose check ids are keys (`{"default.contains": {...}, "deny": true}`).
 *
 * Parsing is in two steps: the shape (no registry needed), then resolution against the loaded checks
 * (unknown ids, parameters, the hook a check supports). Both throw a 400 naming the config path.
 */

export type Side = 'input' | 'output';

export interface Feedback {
  value?: number;
  weight?: number;
  metadata?: Record<string, unknown>;
}

/** One check of a hook as written in the config, before the registry is consulted. */
export interface RawCheck {
  id: string;
  params: Record<string, unknown>;
  failOnError: boolean;
  enabled: boolean;
  /** Config path of the check, for errors. */
  where: string;
  /** Config path its parameters are reported under. */
  paramsWhere: string;
}

export interface RawHook {
  id: string;
  type: 'guardrail' | 'mutator';
  side: Side;
  deny: boolean;
  async: boolean;
  sequential: boolean;
  onFail?: Feedback;
  onSuccess?: Feedback;
  checks: RawCheck[];
  where: string;
  /** Whether the hook comes from the operator (the config file, the plugin's options) rather than from a request. */
  trusted: boolean;
}

export interface CheckSpec {
  id: string;
  check: GuardrailCheck;
  /** The parameters as the check's schema parsed them. */
  params: unknown;
  failOnError: boolean;
  /** From the operator's config (no regex budget); false for a request's own guardrails. */
  trusted: boolean;
}

/** A hook ready to run. Built once per config node and shared by every request that uses it. */
export interface HookSpec {
  id: string;
  type: 'guardrail' | 'mutator';
  side: Side;
  deny: boolean;
  async: boolean;
  sequential: boolean;
  onFail?: Feedback;
  onSuccess?: Feedback;
  /** The enabled checks (`is_enabled: false` ones are validated, then left out). */
  checks: CheckSpec[];
  /** A mutator hook, or one with a check that mutates: it runs on its own, after the hooks before it. */
  mutates: boolean;
  where: string;
}

export interface HookSet {
  readonly input: readonly HookSpec[];
  readonly output: readonly HookSpec[];
}

export const NO_HOOKS: HookSet = Object.freeze({ input: Object.freeze([]), output: Object.freeze([]) });

/** The config keys that hold guardrails, and what each one is. */
const KEYS = [
  { key: 'before_request_hooks', side: 'input', form: 'full' },
  { key: 'input_guardrails', side: 'input', form: 'short', type: 'guardrail' },
  { key: 'input_mutators', side: 'input', form: 'short', type: 'mutator' },
  { key: 'after_request_hooks', side: 'output', form: 'full' },
  { key: 'output_guardrails', side: 'output', form: 'short', type: 'guardrail' },
  { key: 'output_mutators', side: 'output', form: 'short', type: 'mutator' },
] as const;

export const HOOK_KEYS: readonly string[] = KEYS.map((k) => k.key);

/** Whether a node sets any guardrail key (cheap; the hot path asks it of nodes that have none). */
export function hasHookKeys(node: ConfigNode): boolean {
  for (const { key } of KEYS) if (node[key] !== undefined) return true;
  return false;
}

const FeedbackSchema = z.looseObject({
  feedback: z
    .looseObject({ value: z.number().optional(), weight: z.number().optional(), metadata: z.record(z.string(), z.unknown()).optional() })
    .optional(),
});

const CONTROL = {
  id: z.string().min(1).optional(),
  name: z.string().optional(),
  type: z.enum(['guardrail', 'mutator']).optional(),
  deny: z.boolean().optional(),
  async: z.boolean().optional(),
  sequential: z.boolean().optional(),
  on_fail: FeedbackSchema.optional(),
  on_success: FeedbackSchema.optional(),
};
const CONTROL_KEYS = new Set(Object.keys(CONTROL));
const ShortControls = z.strictObject(CONTROL);

const FullCheck = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  fail_on_error: z.boolean().optional(),
  is_enabled: z.boolean().optional(),
});
const FullHook = z.strictObject({ ...CONTROL, checks: z.array(FullCheck).min(1, 'a hook needs at least one check') });

/** Keys inside a check's parameters that are about running it, not the check itself (Portkey puts them there). */
const RUN_KEYS = ['is_enabled', 'fail_on_error', 'failOnError'] as const;

function invalid(where: string, message: string): Error {
  return badRequest(ErrorCode.INVALID_CONFIG, `${where}: ${message}`, where);
}

/** `default.` is the namespace of a check id written without one, as in Portkey. */
function checkId(key: string): string {
  return key.includes('.') ? key : `default.${key}`;
}

function feedbackOf(v: z.output<typeof FeedbackSchema> | undefined): Feedback | undefined {
  return v?.feedback;
}

function splitParams(params: Record<string, unknown>, where: string): { params: Record<string, unknown>; failOnError: boolean; enabled: boolean } {
  let failOnError = true;
  let enabled = true;
  let rest: Record<string, unknown> | undefined;
  for (const key of RUN_KEYS) {
    if (!(key in params)) continue;
    const v = params[key];
    if (typeof v !== 'boolean') throw invalid(`${where}.${key}`, 'must be true or false');
    if (key === 'is_enabled') enabled = v;
    else failOnError = v;
    rest ??= { ...params };
    delete rest[key];
  }
  return { params: rest ?? params, failOnError, enabled };
}

/** Where a node sits, as a prefix for default hook ids: '' at the root, `targets[1].` below it. */
export function idPrefix(path: string): string {
  const dot = path.indexOf('.');
  return dot === -1 ? '' : `${path.slice(dot + 1)}.`;
}

/**
 * Parses the shorthand (`input_guardrails` & co.): one hook per array element. `trusted`: the list
 * is the operator's (the config file's), not a request's; by default it is a request's.
 */
export function parseShorthand(list: unknown, where: string, side: Side, type: 'guardrail' | 'mutator', prefix: string, trusted = false): RawHook[] {
  if (!Array.isArray(list)) throw invalid(where, 'must be an array of guardrails');
  return list.map((elem, i) => shorthandHook(elem, `${where}[${i}]`, side, type, `${prefix}${side}_${type}_${i}`, trusted));
}

/** Parses full hook objects (`before_request_hooks` / `after_request_hooks`); `trusted` as for parseShorthand. */
export function parseFullHooks(list: unknown, where: string, side: Side, prefix: string, trusted = false): RawHook[] {
  if (!Array.isArray(list)) throw invalid(where, 'must be an array of hook objects');
  const name = side === 'input' ? 'before_request_hook' : 'after_request_hook';
  return list.map((elem, i) => fullHook(elem, `${where}[${i}]`, side, `${prefix}${name}_${i}`, trusted));
}

/** A list in the plugin's options or a default-guardrails header: shorthand objects or full hook objects, mixed. */
export function parseMixed(list: unknown, where: string, side: Side, prefix: string, trusted = false): RawHook[] {
  if (!Array.isArray(list)) throw invalid(where, 'must be an array of guardrails');
  return list.map((elem, i) => {
    const at = `${where}[${i}]`;
    const id = `${prefix}${side}_guardrail_${i}`;
    const isFull = elem !== null && typeof elem === 'object' && Array.isArray((elem as { checks?: unknown }).checks);
    return isFull ? fullHook(elem, at, side, id, trusted) : shorthandHook(elem, at, side, 'guardrail', id, trusted);
  });
}

function shorthandHook(elem: unknown, at: string, side: Side, type: 'guardrail' | 'mutator', defaultId: string, trusted: boolean): RawHook {
  if (typeof elem === 'string') {
    throw invalid(
      at,
      `${JSON.stringify(elem)} looks like the id of a guardrail saved in Portkey's hosted app, which a self-hosted gateway cannot fetch; ` +
        `write the checks inline, e.g. {"default.regexMatch": {"rule": "..."}, "deny": true}`,
    );
  }
  if (elem === null || typeof elem !== 'object' || Array.isArray(elem))
    throw invalid(at, 'must be an object of checks (check id → parameters) and hook settings');
  const controls: Record<string, unknown> = {};
  const checks: RawCheck[] = [];
  for (const [key, value] of Object.entries(elem as Record<string, unknown>)) {
    if (CONTROL_KEYS.has(key)) {
      controls[key] = value;
      continue;
    }
    if (key === 'guardrail_version_id') throw invalid(`${at}.${key}`, "refers to a guardrail saved in Portkey's hosted app; write its checks inline");
    const checkAt = `${at}[${JSON.stringify(key)}]`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw invalid(checkAt, `the parameters of check ${JSON.stringify(key)} must be an object ({} when it has none)`);
    }
    const split = splitParams(value as Record<string, unknown>, checkAt);
    checks.push({ id: checkId(key), ...split, where: checkAt, paramsWhere: checkAt });
  }
  const parsed = ShortControls.safeParse(controls);
  if (!parsed.success) throw badRequest(ErrorCode.INVALID_CONFIG, `invalid guardrail: ${formatIssues(parsed.error, at)}`, at);
  if (checks.length === 0) throw invalid(at, 'names no check (keys like "default.regexMatch" with their parameters)');
  const c = parsed.data;
  return {
    id: c.id ?? defaultId,
    type: c.type ?? type,
    side,
    deny: c.deny ?? false,
    async: c.async ?? false,
    sequential: c.sequential ?? false,
    onFail: feedbackOf(c.on_fail),
    onSuccess: feedbackOf(c.on_success),
    checks,
    where: at,
    trusted,
  };
}

function fullHook(elem: unknown, at: string, side: Side, defaultId: string, trusted: boolean): RawHook {
  if (typeof elem === 'string') throw invalid(at, `${JSON.stringify(elem)}: saved hooks are a hosted Portkey feature; write the hook object inline`);
  const parsed = FullHook.safeParse(elem);
  if (!parsed.success) throw badRequest(ErrorCode.INVALID_CONFIG, `invalid hook: ${formatIssues(parsed.error, at)}`, at);
  const h = parsed.data;
  const checks = h.checks.map((c, j): RawCheck => {
    const checkAt = `${at}.checks[${j}]`;
    const split = splitParams(c.parameters ?? {}, `${checkAt}.parameters`);
    return {
      id: checkId(c.id),
      params: split.params,
      failOnError: c.fail_on_error ?? split.failOnError,
      enabled: c.is_enabled ?? split.enabled,
      where: checkAt,
      paramsWhere: `${checkAt}.parameters`,
    };
  });
  return {
    id: h.id ?? defaultId,
    type: h.type ?? 'guardrail',
    side,
    deny: h.deny ?? false,
    async: h.async ?? false,
    sequential: h.sequential ?? false,
    onFail: feedbackOf(h.on_fail),
    onSuccess: feedbackOf(h.on_success),
    checks,
    where: at,
    trusted,
  };
}

/**
 * Parses every guardrail key of one config node (shape only). `trusted(list)` tells whether a key's
 * list is the operator's (by identity: the config file's own arrays); without it, every list is a request's.
 */
export function parseNodeRaw(node: ConfigNode, path: string, trusted?: (list: unknown) => boolean): RawHook[] {
  const prefix = idPrefix(path);
  const out: RawHook[] = [];
  for (const k of KEYS) {
    const v = node[k.key];
    if (v === undefined) continue;
    const where = `${path}.${k.key}`;
    const mine = trusted?.(v) ?? false;
    if (k.form === 'full') out.push(...parseFullHooks(v, where, k.side, prefix, mine));
    else out.push(...parseShorthand(v, where, k.side, k.type, prefix, mine));
  }
  return out;
}

/** Every guardrail list of a routing config (the config file's), for telling its hooks by identity. */
export function hookLists(root: ConfigNode | undefined, into: WeakSet<object> = new WeakSet()): WeakSet<object> {
  if (!root) return into;
  for (const { key } of KEYS) {
    const v = root[key];
    if (v !== null && typeof v === 'object') into.add(v);
  }
  root.targets?.forEach((t) => hookLists(t, into));
  return into;
}

const SIDE_HOOK: Record<Side, CheckHook> = { input: 'beforeRequest', output: 'afterResponse' };
const SIDE_WORDS: Record<Side, string> = { input: 'before the call (input)', output: 'after the call (output)' };

/** Parameters a check's schema does not define, left out of what the check gets (reported, not refused). */
export interface IgnoredParameters {
  /** The check id, e.g. `default.contains`. */
  check: string;
  /** Config path of the check's parameters. */
  where: string;
  /** The parameters left out, as paths inside the parameters (`not`, `rules.extra`). */
  parameters: string[];
}

export interface ResolveOptions {
  /**
   * Refuse (400) parameters a check does not define, instead of leaving them out and reporting them
   * to `onIgnored`. Either way `not: false` is accepted on every check: it asks for nothing.
   */
  strictParameters?: boolean;
  /** Told of the parameters left out of each check (when `strictParameters` is off). */
  onIgnored?: (ignored: IgnoredParameters) => void;
}

/** Resolves parsed hooks against the loaded checks: ids, parameters and supported hooks. */
export function resolveHooks(
  raw: readonly RawHook[],
  checks: Pick<PluginRegistry<GuardrailCheck>, 'get' | 'names'>,
  options: ResolveOptions = {},
): HookSet {
  if (raw.length === 0) return NO_HOOKS;
  const input: HookSpec[] = [];
  const output: HookSpec[] = [];
  for (const hook of raw) {
    const specs: CheckSpec[] = [];
    for (const c of hook.checks) {
      const check = checks.get(c.id);
      if (!check) throw invalid(c.where, unknownCheckMessage(c.id, checks.names()));
      if (check.hooks && !check.hooks.includes(SIDE_HOOK[hook.side])) {
        const allowed = check.hooks.map((h) => (h === 'beforeRequest' ? SIDE_WORDS.input : SIDE_WORDS.output)).join(' or ');
        throw invalid(c.where, `check ${c.id} runs only ${allowed}; it cannot be used ${SIDE_WORDS[hook.side]}`);
      }
      if (!hook.trusted) {
        for (const name of check.fileOnlyParams ?? []) {
          if (Object.hasOwn(c.params, name)) {
            throw invalid(`${c.paramsWhere}.${name}`, `${name} may only be set in the gateway's config file, not in a config sent with a request`);
          }
        }
      }
      const params = parseParams(c, check.params as ParamsSchema | undefined, options);
      if (c.enabled) specs.push({ id: c.id, check, params, failOnError: c.failOnError, trusted: hook.trusted });
    }
    if (specs.length === 0) continue;
    const spec: HookSpec = {
      id: hook.id,
      type: hook.type,
      side: hook.side,
      deny: hook.deny,
      async: hook.async,
      sequential: hook.sequential,
      onFail: hook.onFail,
      onSuccess: hook.onSuccess,
      checks: specs,
      mutates: hook.type === 'mutator' || specs.some((s) => s.check.mutates === true),
      where: hook.where,
    };
    (hook.side === 'input' ? input : output).push(spec);
  }
  return input.length === 0 && output.length === 0 ? NO_HOOKS : { input, output };
}

type ParseResult = { success: boolean; data?: unknown; error?: z.ZodError };
type ParamsSchema = { safeParse?: (v: unknown) => ParseResult };

/**
 * A check's parameters parsed by its schema. Portkey ignores parameters a check does not read, so
 * a key the schema does not define (zod's `unrecognized_keys`, at any depth) is left out and
 * reported, or with `strictParameters` refused; `not: false` is left out quietly everywhere (it
 * asks for nothing; `not: true` on a check that cannot invert is reported like any unknown key).
 * Everything else the schema rejects (a wrong type, a missing required parameter) is a 400.
 */
function parseParams(c: RawCheck, schema: ParamsSchema | undefined, options: ResolveOptions): unknown {
  if (!schema || typeof schema.safeParse !== 'function') return c.params;
  let parsed = schema.safeParse(c.params);
  if (parsed.success) return parsed.data;
  let params: unknown = c.params;
  let unknown = unrecognized(parsed.error);
  if (unknown.some((u) => u.path.length === 0 && u.key === 'not' && c.params.not === false)) {
    params = withoutKey(params, [], 'not');
    parsed = schema.safeParse(params);
    if (parsed.success) return parsed.data;
    unknown = unrecognized(parsed.error);
  }
  if (unknown.length > 0 && !options.strictParameters) {
    for (const u of unknown) params = withoutKey(params, u.path, u.key);
    parsed = schema.safeParse(params);
    if (parsed.success) {
      options.onIgnored?.({ check: c.id, where: c.paramsWhere, parameters: unknown.map((u) => joinParam(u.path, u.key)) });
      return parsed.data;
    }
  }
  const msg = parsed.error ? formatIssues(parsed.error, c.paramsWhere) : `${c.paramsWhere}: invalid parameters`;
  throw badRequest(ErrorCode.INVALID_CONFIG, `invalid parameters for check ${c.id}: ${msg}`, c.paramsWhere);
}

/** The keys zod found that the schema does not define, each with the path of the object holding it. */
function unrecognized(error: z.ZodError | undefined): Array<{ path: PropertyKey[]; key: string }> {
  const out: Array<{ path: PropertyKey[]; key: string }> = [];
  for (const issue of error?.issues ?? []) {
    if (issue.code === 'unrecognized_keys') for (const key of issue.keys) out.push({ path: issue.path, key });
  }
  return out;
}

/** A copy of `value` without `key` in the object at `path` (objects and arrays along it are copied, the rest shared). */
function withoutKey(value: unknown, path: readonly PropertyKey[], key: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (path.length === 0) {
    if (Array.isArray(value)) return value;
    const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  const [head, ...tail] = path;
  if (Array.isArray(value)) {
    const copy = value.slice();
    if (typeof head === 'number' && head < copy.length) copy[head] = withoutKey(copy[head], tail, key);
    return copy;
  }
  const obj = value as Record<PropertyKey, unknown>;
  return Object.hasOwn(obj, head as PropertyKey) ? { ...obj, [head as PropertyKey]: withoutKey(obj[head as PropertyKey], tail, key) } : obj;
}

function joinParam(path: readonly PropertyKey[], key: string): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out ? `${out}.${key}` : key;
}

/** "unknown check", with the closest loaded ids, or a hint that the check's package is not loaded. */
export function unknownCheckMessage(id: string, loaded: readonly string[]): string {
  const close = closeMatches(id, loaded);
  const namespace = id.slice(0, id.indexOf('.'));
  let msg = `unknown guardrail check ${JSON.stringify(id)}`;
  if (close.length) msg += `; did you mean ${close.map((c) => JSON.stringify(c)).join(' or ')}?`;
  else if (!loaded.some((n) => n.startsWith(`${namespace}.`))) {
    msg += `; no loaded plugin registers checks in the namespace "${namespace}" (add its package to the config file's "plugins")`;
  }
  if (loaded.length === 0) msg += ' (no guardrail checks are loaded)';
  else if (!close.length) msg += ` (loaded: ${loaded.slice().sort().slice(0, 30).join(', ')}${loaded.length > 30 ? ', ...' : ''})`;
  return msg;
}

/** Up to three loaded ids close to `id`: same name in another case or namespace, or a few edits away. */
export function closeMatches(id: string, loaded: readonly string[]): string[] {
  const lower = id.toLowerCase();
  const fn = lower.slice(lower.indexOf('.') + 1);
  const scored: Array<[string, number]> = [];
  for (const name of loaded) {
    const l = name.toLowerCase();
    let score: number;
    if (l === lower) score = 0;
    else if (l.slice(l.indexOf('.') + 1) === fn) score = 1;
    else {
      const d = editDistance(lower, l);
      if (d > Math.max(2, Math.floor(id.length / 4))) continue;
      score = 1 + d;
    }
    scored.push([name, score]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map((s) => s[0]);
}

function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
