import type { ErrorDecision, GatewayError, RequestContext, RetryConfig } from '@waygate/core';

/** Status codes retried when a config's `retry` names none (Portkey's default list). */
export const DEFAULT_RETRY_STATUS_CODES: readonly number[] = Object.freeze([429, 500, 502, 503, 504]);

/**
 * Error codes of connection-level failures: no usable HTTP answer (refused, reset, DNS, TLS), a
 * timeout, or a malformed answer. They are retried whatever `on_status_codes` says, as Portkey
 * retries a thrown fetch on every remaining attempt.
 */
export const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set(['upstream_unreachable', 'upstream_timeout', 'upstream_bad_response']);

export interface RetryOptions {
  /** Upper bound on `retry.attempts` (retries per target, not counting the first try). */
  maxAttempts: number;
  /** Backoff base: the n-th retry (n from 0) waits random(0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number;
  /** Backoff cap. */
  maxDelayMs: number;
  /** Longest Retry-After wait honoured; a longer one means "do not retry this target". */
  maxRetryAfterMs: number;
}

export const DEFAULT_OPTIONS: RetryOptions = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
});

export interface RetryPolicyDeps {
  /** A number in [0, 1): the jitter source. Default Math.random. */
  random?: () => number;
  /** Wall clock (ms since epoch), for Retry-After HTTP dates. Default Date.now. */
  now?: () => number;
  /** Monotonic clock in performance.now() units, compared with ctx.deadlineAt. Default performance.now. */
  monotonic?: () => number;
}

/** The part of the request context a retry decision reads and writes. */
export type RetryContext = Pick<RequestContext, 'target' | 'retryCount' | 'retriesExhausted' | 'markRetriesExhausted'> &
  Partial<Pick<RequestContext, 'deadlineAt' | 'plan' | 'targetIndex'>>;

function hasLaterTarget(ctx: RetryContext): boolean {
  return ctx.plan !== undefined && ctx.plan.targets.length > (ctx.targetIndex ?? 0) + 1;
}

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * The wait an upstream asked for, in ms, from `retry-after-ms` or `x-ms-retry-after-ms` (milliseconds)
 * or `retry-after` (delta-seconds or an HTTP date), checked in that order. Undefined when none is
 * present or parseable. A date in the past means 0.
 */
export function parseRetryAfter(headers: HeaderBag | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = toNumber(header(headers, name));
    if (ms !== undefined) return Math.ceil(ms);
  }
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  const seconds = toNumber(raw);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  // An HTTP date names a day and a month (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone would
  // also take "-5" or "2024" as dates.
  if (!/[a-z]{3}/i.test(raw)) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil(at - now));
}

function header(headers: HeaderBag, name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    // Upstream header names arrive lower-cased; a plugin-made error may not follow that.
    for (const k in headers) {
      if (k.toLowerCase() === name) {
        v = headers[k];
        break;
      }
    }
  }
  if (Array.isArray(v)) v = v[0];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t.length ? t : undefined;
}

/** A non-negative decimal number, or undefined (no signs, exponents or units). */
function toNumber(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+(\.\d+)?$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Exponential backoff with full jitter: random(0, min(maxDelayMs, baseDelayMs * 2^retryCount)). */
export function backoffDelay(retryCount: number, opts: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retryCount);
  return Math.floor(random() * ceiling);
}

/** Whether this failure may be retried under a policy's status list. */
export function isRetryableFailure(err: GatewayError, onStatusCodes: readonly number[] = DEFAULT_RETRY_STATUS_CODES): boolean {
  if (CONNECTION_ERROR_CODES.has(err.code)) return true;
  const status = err.upstream?.status;
  return status !== undefined && onStatusCodes.includes(status);
}

/**
 * The retry decision for one failed attempt, as the onError tap makes it. Returns a retry decision,
 * or undefined to let the next policy (a fallback, else the core) decide.
 */
export function createRetryPolicy(options: Partial<RetryOptions> = {}, deps: RetryPolicyDeps = {}) {
  const opts: RetryOptions = { ...DEFAULT_OPTIONS, ...options };
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const monotonic = deps.monotonic ?? (() => performance.now());

  return function decide(err: GatewayError, ctx: RetryContext): ErrorDecision | undefined {
    // The first failure on a target (the first, or one a fallback moved to) starts a fresh verdict:
    // only the last target's retries say whether the answer came from exhausted retries.
    if (ctx.retryCount === 0) ctx.markRetriesExhausted(false);
    const policy = ctx.target?.node.retry as RetryConfig | undefined;
    if (!policy) return undefined;
    const attempts = Math.min(Math.max(0, Math.floor(Number(policy.attempts) || 0)), opts.maxAttempts);
    if (attempts === 0) return undefined;
    if (!isRetryableFailure(err, policy.on_status_codes ?? DEFAULT_RETRY_STATUS_CODES)) return undefined;
    if (ctx.retryCount >= attempts) {
      ctx.markRetriesExhausted(true);
      return undefined;
    }

    let delayMs: number | undefined;
    if (policy.use_retry_after_header !== false) {
      const asked = parseRetryAfter(err.upstream?.headers ?? err.headers, now());
      if (asked !== undefined) {
        if (asked > opts.maxRetryAfterMs) {
          // Portkey's 60 s rule: a wait that long is not worth it here; give up on this target
          // (a fallback may move on), reported like exhausted retries.
          ctx.markRetriesExhausted(true);
          return undefined;
        }
        delayMs = asked;
      }
    }
    delayMs ??= backoffDelay(ctx.retryCount, opts, random);

    // A wait that would outlast the request's deadline is not worth starting. With a later target in
    // the plan, defer: a fallback tries it now, with the time that is left. Without one, the retry
    // decision stands and the kernel, which never starts such a wait, answers deadline_exceeded.
    if (ctx.deadlineAt !== undefined && monotonic() + delayMs >= ctx.deadlineAt && hasLaterTarget(ctx)) return undefined;
    return { action: 'retry', delayMs };
  };
}
