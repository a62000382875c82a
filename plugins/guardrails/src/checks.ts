import type { z } from 'zod';
import type { PluginApi, RequestContext } from '@waygate/core';
import type { RegexMeter } from '@waygate/safe-regex';

/**
 * The guardrail check contract. A guardrail package registers named checks in setup():
 *
 *     registerChecks(api, 'default', [regexMatch, contains, ...]);   // ids `default.regexMatch`, ...
 *
 * The guardrails plugin (this package) reads Portkey-style hook configs, finds each check by its id
 * in the `checks` registry, validates its parameters with the check's schema when the
 * config is checked (a bad parameter or an unknown id is a 400 naming the path), and runs it before
 * the call (`beforeRequest`) or after it (`afterResponse`).
 */
export type CheckHook = 'beforeRequest' | 'afterResponse';

export interface CheckInput<P = Record<string, unknown>> {
  /** Which side of the call this run is on. */
  hook: CheckHook;
  /** The check's parameters, as parsed by its schema. */
  params: P;
  /** The request: its JSON body (in the client's API format) and the text checks usually look at (the last user message, or the prompt). */
  request: { json: Record<string, unknown> | undefined; text: string };
  /** After the call: the answer's JSON (for a stream, the whole answer assembled), its text and status. */
  response?: { json: unknown; text: string; status: number };
  /** The endpoint (`chat.completions`, `messages`, ...), the provider if one is chosen, and the request's metadata. */
  endpoint: string;
  provider?: string;
  metadata: Record<string, unknown>;
  /** The incoming request's headers (hold secrets: never send or log them whole). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Aborted when the client goes away or the check's time runs out. */
  signal: AbortSignal;
  ctx: RequestContext;
  /**
   * The gateway's egress policy: call out with `egress.fetch` (or `egress.dispatcher`), never the
   * global fetch, since a check's URLs can come from a caller's config; `egress.check(url, where)`
   * refuses a URL by its text alone.
   */
  egress: PluginApi['egress'];
  /**
   * The request's regex work budget, set when the check's parameters came from the request itself (a
   * config header, a default-guardrails header); undefined for the operator's config file. A check
   * that matches patterns from its parameters passes it to @waygate/safe-regex, so a long text cannot
   * make a caller's pattern cost more than the budget.
   */
  regexMeter?: RegexMeter;
}

export interface CheckResult {
  /** true: the check passed. */
  verdict: boolean;
  /** Anything worth reporting in `hook_results` (what matched, counts, explanation). */
  data?: unknown;
  /** A mutator's output: the text to use instead (the request's text before the call, the answer's after). */
  transformedText?: string;
  /** A mutator's output as a whole body (in the client's API format), when text is not enough. */
  transformedJson?: Record<string, unknown>;
}

export interface GuardrailCheck<S extends z.ZodType = z.ZodType> {
  /** The function id within its package, e.g. `regexMatch`. */
  id: string;
  /** Where it may run; a config that puts it elsewhere is rejected. Default: both. */
  hooks?: readonly CheckHook[];
  /** The parameters' schema (zod): validated once, when the config is checked. */
  params: S;
  /** Whether the check changes the request or answer (a mutator). */
  mutates?: boolean;
  /**
   * Parameters only the gateway's config file may set (such as `regexEngine`): in a config a request
   * sent, setting one is a 400 naming it.
   */
  fileOnlyParams?: readonly string[];
  run(input: CheckInput<z.output<S>>): CheckResult | Promise<CheckResult>;
  /**
   * For output checks on streams: called with the text so far; returns false when the check has
   * already failed for good (a forbidden word appeared, the word limit was passed), so the stream can
   * be stopped early. Return undefined while it cannot tell yet. `meter` is as in CheckInput (a
   * budget of its own for these early looks, so spending it only ends the early decisions).
   */
  partial?(text: string, params: z.output<S>, meter?: RegexMeter): boolean | undefined;
}

/** Registers a package's checks under `<namespace>.<id>`. */
export function registerChecks(api: PluginApi, namespace: string, checks: readonly GuardrailCheck[]): void {
  if (!/^[A-Za-z0-9_-]+$/.test(namespace)) throw new Error(`A guardrail namespace is letters, digits, "_" or "-" (got ${JSON.stringify(namespace)})`);
  const registry = api.registry<GuardrailCheck>(CHECKS);
  for (const check of checks) registry.register(`${namespace}.${check.id}`, check);
}

/** The registry kind guardrail checks are registered under. */
export const CHECKS = 'checks';

/** Identity with types, for defining one check. */
export function defineCheck<S extends z.ZodType>(check: GuardrailCheck<S>): GuardrailCheck<S> {
  return check;
}
