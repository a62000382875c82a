import type { GatewayError } from '@waygate/core';

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What the availability check gets for a target: go ahead, go ahead as a half-open probe, or skip it. */
export type Admission = 'pass' | 'probe' | 'deny';

/** A change of a circuit's state, for logs. */
export interface StateChange {
  key: string;
  from: CircuitState;
  to: CircuitState;
  /** Why: the rule that opened it, or the probe's outcome. */
  reason: string;
  /** Whether the change was seen in the shared (Redis) state rather than decided here. */
  shared?: boolean;
}

/**
 * A circuit breaker's state, per target key. `admit` is on the hot path (the availability check):
 * synchronous and O(1). Outcomes are recorded after each attempt.
 */
export interface BreakerStore {
  /** May a request use this target now? In half-open, `probe` reserves one of the probe slots. */
  admit(key: string): Admission;
  /** Gives back a probe slot that was reserved but not used (the request never tried the target). */
  release(key: string): void;
  /** The outcome of one attempt on the target: a counted failure, or a success. */
  record(key: string, failed: boolean): void;
  /** The state as this process sees it (no side effect). */
  state(key: string): CircuitState;
  /** Resolves once outcomes written so far have been applied (immediately for memory). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Connection-level failures: no usable HTTP answer, a timeout, or a malformed answer. */
const CONNECTION_CODES = new Set(['upstream_unreachable', 'upstream_timeout', 'upstream_bad_response']);

/**
 * Whether a failed attempt says the target is unhealthy: connection failures and timeouts, 429, 408
 * and 5xx answers, and an error event in place of a 2xx answer. Other 4xx (400, 401, 404, 422...)
 * are the caller's fault and are not counted.
 */
export function countsAsFailure(err: GatewayError): boolean {
  if (CONNECTION_CODES.has(err.code)) return true;
  const status = err.upstream?.status;
  if (status !== undefined && status >= 400) return status === 429 || status === 408 || status >= 500;
  // No upstream status (or a 2xx that turned out to be an error event): the gateway's verdict decides.
  return err.retryable && err.status >= 500;
}
