import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/** Google's canonical codes that another attempt may get past (with 408, 429 and 5xx statuses). */
const RETRYABLE = new Set(['RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED']);

/**
 * A PaLM error answer (Google's `{error: {code, message, status}}`) → a GatewayError: the status and
 * Google's message kept, its canonical status as the type; rate limits, overload and 5xx retryable.
 */
export function mapPalmError(status: number, body: unknown, headers: Headers): GatewayError {
  const err = isObj(body) && isObj(body.error) ? body.error : undefined;
  const code = typeof err?.status === 'string' ? err.status : undefined;
  const message =
    typeof err?.message === 'string' && err.message
      ? err.message
      : typeof body === 'string' && body.trim()
        ? body.slice(0, 1000)
        : `answered status ${status}`;
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `palm: ${message}`, {
    retryable: isRetryableStatus(status) || (code !== undefined && RETRYABLE.has(code)),
    type: code,
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what PaLM documents. */
export function badAnswer(why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `palm ${why}`, { retryable: true, type: 'server_error' });
}
