import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The message of an AI21 error body: `{detail: "…"}`, a validation error's `{detail: [{loc, msg}]}`
 * (each `loc: msg`), `{message}` or `{error: {message}}`, else the text.
 */
function messageOf(status: number, body: unknown): string {
  if (isObj(body)) {
    if (typeof body.detail === 'string' && body.detail) return body.detail.slice(0, 1000);
    if (Array.isArray(body.detail) && body.detail.length) {
      return body.detail
        .map((d: unknown) => (isObj(d) ? [Array.isArray(d.loc) ? d.loc.join('.') : undefined, d.msg].filter(Boolean).join(': ') : String(d)))
        .join('; ')
        .slice(0, 1000);
    }
    if (typeof body.message === 'string' && body.message) return body.message.slice(0, 1000);
    if (isObj(body.error) && typeof body.error.message === 'string') return body.error.message.slice(0, 1000);
  }
  if (typeof body === 'string' && body.trim()) return body.slice(0, 1000);
  return `answered status ${status}`;
}

/** An AI21 error answer → a GatewayError: the status and AI21's message kept; 408, 429 and 5xx retryable. */
export function mapAI21Error(status: number, body: unknown, headers: Headers): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `ai21: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what AI21 documents. */
export function badAnswer(why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `ai21 ${why}`, { retryable: true, type: 'server_error' });
}
