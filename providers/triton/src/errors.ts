import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

type Headers = Record<string, string | string[] | undefined>;

/** The message of a Triton error answer, `{"error": "..."}` (a plain-text body as it is). */
function messageOf(status: number, body: unknown): string {
  if (isObj(body) && typeof body.error === 'string' && body.error) return body.error;
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 1000);
  return `answered status ${status}`;
}

/** A Triton error answer as a GatewayError: the status and Triton's message kept; 408, 429 and 5xx retryable. */
export function mapTritonError(status: number, body: unknown, headers: Headers): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `triton: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what the generate extension documents: a retryable 502. */
export function badAnswer(why: string, body?: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `triton ${why}`, {
    retryable: true,
    type: 'server_error',
    upstream: body === undefined ? undefined : { status: 200, body },
  });
}

/** An error object inside `/generate_stream` (inference failed after the 200): a retryable 502. */
export function streamError(body: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `triton: ${messageOf(502, body)}`, {
    retryable: true,
    type: 'server_error',
    upstream: { status: 200, body },
  });
}
