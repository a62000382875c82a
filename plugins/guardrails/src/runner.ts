import type { PluginApi, RequestContext } from '@waygate/core';
import type { RegexMeter } from '@waygate/safe-regex';
import type { CheckInput, CheckResult } from './checks.js';
import type { CheckSpec, Feedback, HookSpec, Side } from './config.js';
import type { TextView } from './views.js';

/**
 * Runs hooks and their checks the way Portkey does, stricter where Portkey lets failures through:
 *
 * - the checks of one hook run in parallel, or one after another when the hook is `sequential`, is a
 *   mutator hook, or has a check that mutates (then each check sees the previous one's output);
 * - a hook's verdict is true when every check passed; a check that throws, times out or returns no
 *   verdict has failed (verdict false, `error` recorded) and fails its hook unless its config says
 *   `fail_on_error: false`;
 * - hooks run in the order they are listed; consecutive hooks that change nothing run in parallel,
 *   and a hook that may change the text runs on its own, seeing what the hooks before it left.
 */

/** What checks look at: a JSON body and its text (the request before the call, the answer after). */
export interface Snapshot {
  readonly json: Record<string, unknown> | undefined;
  readonly text: string;
}

export interface RunEnv {
  ctx: RequestContext;
  side: Side;
  /** Where a mutator's text goes (undefined: this endpoint has no text view, so text cannot be written back). */
  view: TextView | undefined;
  /** After the call: the request as it was sent. */
  request?: Snapshot;
  /** After the call: the answer's HTTP status. */
  status?: number;
  timeoutMs: number;
  /** Where a check that fails to run is reported. */
  logger: Pick<PluginApi['logger'], 'warn'>;
  /** What checks call out through (the plugin's `api.egress`). */
  egress: PluginApi['egress'];
  /** The request's regex work budget, handed to checks a request sent (made on first use). */
  regexMeter?: (ctx: RequestContext) => RegexMeter;
}

/** One check's entry in `hook_results` (Portkey's shape). */
export interface CheckRecord {
  verdict: boolean;
  id: string;
  data: unknown;
  error?: { name: string; message: string };
  execution_time: number;
  transformed: boolean;
  created_at: string;
  fail_on_error: boolean;
}

/** One hook's entry in `hook_results` (Portkey's HookResult). */
export interface HookResult {
  verdict: boolean;
  id: string;
  transformed: boolean;
  checks: CheckRecord[];
  feedback: (Feedback & { metadata: Record<string, unknown> }) | null;
  execution_time: number;
  async: boolean;
  type: 'guardrail' | 'mutator';
  created_at: string;
  /** True when this hook denied the request (it has `deny` and failed). */
  deny: boolean;
}

export interface HooksOutcome {
  results: HookResult[];
  /** The body after the mutators (the same object when nothing changed it). */
  snap: Snapshot;
}

export class CheckTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(ms: number) {
    super(`the check did not finish within ${ms} ms`);
  }
}

const SIDE_HOOK = { input: 'beforeRequest', output: 'afterResponse' } as const;

export async function runHooks(hooks: readonly HookSpec[], snap: Snapshot, env: RunEnv): Promise<HooksOutcome> {
  const results: HookResult[] = new Array(hooks.length);
  let cur = snap;
  let i = 0;
  while (i < hooks.length) {
    if (hooks[i]!.mutates) {
      const out = await runHook(hooks[i]!, cur, env);
      results[i] = out.result;
      cur = out.snap;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < hooks.length && !hooks[j]!.mutates) j++;
    const base = cur;
    const outs = j - i === 1 ? [await runHook(hooks[i]!, base, env)] : await Promise.all(hooks.slice(i, j).map((h) => runHook(h, base, env)));
    for (let k = 0; k < outs.length; k++) {
      results[i + k] = outs[k]!.result;
      // A hook that is not flagged as mutating may still return a transformation: applied in list order.
      if (outs[k]!.snap !== base) cur = outs[k]!.snap;
    }
    i = j;
  }
  return { results, snap: cur };
}

export async function runHook(hook: HookSpec, snap: Snapshot, env: RunEnv): Promise<{ result: HookResult; snap: Snapshot }> {
  const created = new Date().toISOString();
  const t0 = performance.now();
  let cur = snap;
  const records: CheckRecord[] = [];
  if (hook.sequential || hook.mutates || hook.checks.length === 1) {
    for (const spec of hook.checks) {
      const out = await runCheck(spec, cur, env);
      records.push(out.record);
      if (out.snap) cur = out.snap;
    }
  } else {
    const outs = await Promise.all(hook.checks.map((spec) => runCheck(spec, snap, env)));
    for (const out of outs) {
      records.push(out.record);
      if (out.snap) cur = out.snap;
    }
  }
  const verdict = records.every((r) => r.verdict || (r.error !== undefined && !r.fail_on_error));
  const result: HookResult = {
    verdict,
    id: hook.id,
    transformed: cur !== snap,
    checks: records,
    feedback: feedback(records, verdict ? hook.onSuccess : hook.onFail),
    execution_time: ms(performance.now() - t0),
    async: hook.async,
    type: hook.type,
    created_at: created,
    deny: hook.deny && !verdict,
  };
  return { result, snap: cur };
}

export async function runCheck(spec: CheckSpec, snap: Snapshot, env: RunEnv): Promise<{ record: CheckRecord; snap?: Snapshot }> {
  const created = new Date().toISOString();
  const t0 = performance.now();
  const ctx = env.ctx;
  const input = new RunInput(
    SIDE_HOOK[env.side],
    spec.params as Record<string, unknown>,
    env.side === 'input' ? snap : (env.request ?? { json: undefined, text: '' }),
    env.side === 'output' ? { json: snap.json, text: snap.text, status: env.status ?? 200 } : undefined,
    ctx,
    env.egress,
    spec.trusted ? undefined : env.regexMeter?.(ctx),
  );
  try {
    let result: CheckResult | Promise<CheckResult> = spec.check.run(input);
    if (isThenable(result)) result = await withTimeout(result, env.timeoutMs, () => input.abort(new CheckTimeoutError(env.timeoutMs)));
    if (!result || typeof result !== 'object' || typeof (result as CheckResult).verdict !== 'boolean') {
      throw new Error(`the check returned ${describe(result)} instead of a result with a boolean verdict`);
    }
    const next = transformed(result, snap, env);
    return {
      record: {
        verdict: result.verdict,
        id: spec.id,
        data: result.data ?? null,
        execution_time: ms(performance.now() - t0),
        transformed: next !== undefined,
        created_at: created,
        fail_on_error: spec.failOnError,
      },
      snap: next,
    };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    env.logger.warn({ reqId: ctx.id, check: spec.id, err: e.message }, 'guardrail check failed to run');
    return {
      record: {
        verdict: false,
        id: spec.id,
        data: null,
        error: { name: e.name, message: e.message },
        execution_time: ms(performance.now() - t0),
        transformed: false,
        created_at: created,
        fail_on_error: spec.failOnError,
      },
    };
  }
}

/**
 * A check's input. The signal is a getter on the prototype, made on first use: a check that spreads
 * its input (`{ params, ...input }`) copies only the plain fields and never pays for an
 * AbortSignal.any() it does not read (and the object keeps a fast shape).
 */
class RunInput implements CheckInput {
  readonly endpoint: string;
  readonly provider: string | undefined;
  readonly metadata: Record<string, unknown>;
  readonly headers: RequestContext['headers'];
  #ctl: AbortController | undefined;
  #signal: AbortSignal | undefined;

  constructor(
    readonly hook: CheckInput['hook'],
    readonly params: Record<string, unknown>,
    readonly request: CheckInput['request'],
    readonly response: CheckInput['response'],
    readonly ctx: RequestContext,
    readonly egress: CheckInput['egress'],
    readonly regexMeter: RegexMeter | undefined,
  ) {
    this.endpoint = ctx.endpoint;
    this.provider = ctx.target?.provider ?? ctx.plan?.targets[0]?.provider;
    this.metadata = ctx.metadata;
    this.headers = ctx.headers;
  }

  get signal(): AbortSignal {
    if (!this.#signal) {
      this.#ctl = new AbortController();
      this.#signal = AbortSignal.any([this.ctx.signal, this.#ctl.signal]);
    }
    return this.#signal;
  }

  abort(reason: unknown): void {
    this.#ctl?.abort(reason);
  }
}

/** The snapshot a mutator's result stands for, or undefined when it changed nothing. */
function transformed(result: CheckResult, snap: Snapshot, env: RunEnv): Snapshot | undefined {
  const tj = result.transformedJson;
  if (tj !== undefined) {
    if (tj === null || typeof tj !== 'object' || Array.isArray(tj)) throw new Error('the check returned a transformedJson that is not a JSON object');
    return { json: tj, text: env.view ? env.view.read(tj) : '' };
  }
  const text = result.transformedText;
  if (text === undefined || text === snap.text) return undefined;
  if (typeof text !== 'string') throw new Error('the check returned a transformedText that is not a string');
  if (!env.view) throw new Error(`text cannot be written back on the ${env.ctx.endpoint} endpoint (return transformedJson instead)`);
  return { json: env.view.write(snap.json, text), text };
}

function feedback(records: CheckRecord[], fb: Feedback | undefined): HookResult['feedback'] {
  if (!fb) return null;
  const ids = (pick: (r: CheckRecord) => boolean) =>
    records
      .filter(pick)
      .map((r) => r.id)
      .join(', ');
  return {
    value: fb.value,
    weight: fb.weight,
    metadata: {
      ...fb.metadata,
      successfulChecks: ids((r) => r.verdict),
      failedChecks: ids((r) => !r.verdict && !r.error),
      erroredChecks: ids((r) => !r.verdict && !!r.error),
    },
  };
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new CheckTimeoutError(timeoutMs));
    }, timeoutMs);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<T>).then === 'function';
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object without a boolean "verdict"' : `a ${typeof v}`;
}

function ms(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Whether any hook failed (its verdict is false), and the first that denied. */
export function verdictOf(results: readonly HookResult[]): { failed: boolean; denied: HookResult | undefined } {
  let failed = false;
  let denied: HookResult | undefined;
  for (const r of results) {
    if (!r.verdict) failed = true;
    if (r.deny && !denied) denied = r;
  }
  return { failed, denied };
}
