import { ErrorCode, GatewayError, isRetryableStatus, scrub } from '@waygate/core';
import { isObj, str } from './json.js';
import type { Json } from './json.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The message of a Replicate error answer. Replicate answers errors as problem details (RFC 7807):
 * `{title, detail, status}`, a 422 adding `invalid_fields[]` (`{type, field, description}`).
 */
function problemMessage(status: number, body: unknown): string {
  if (isObj(body)) {
    const title = str(body.title);
    const detail = str(body.detail)?.trim();
    let message = title && detail && !detail.startsWith(title) ? `${title}: ${detail}` : (detail ?? title);
    const fields = Array.isArray(body.invalid_fields) ? body.invalid_fields.filter(isObj) : [];
    const described = fields
      .map((f: Json) => [str(f.field), str(f.description)].filter(Boolean).join(': '))
      .filter((d: string) => d && !message?.includes(d));
    if (described.length) message = `${message ?? 'invalid input'} (${described.join('; ')})`;
    if (message) return message;
  }
  if (typeof body === 'string' && body.trim()) return body.slice(0, 1000);
  return `answered status ${status}`;
}

/**
 * A Replicate error answer as a GatewayError: the status kept, Replicate's `title` and `detail` as the
 * message, rate limits and server errors retryable. `secret` (the target's key) is removed from the
 * message, for errors raised before the kernel knows what was sent. `relay`: the client gets
 * Replicate's own body (a forwarded request's client speaks Replicate's API), else OpenAI's shape.
 */
export function mapReplicateError(status: number, body: unknown, headers: Headers, opts: { secret?: string; relay?: boolean } = {}): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, scrub(`replicate: ${problemMessage(status, body)}`, opts.secret), {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
    body: opts.relay && isObj(body) ? body : undefined,
  });
}

/**
 * A prediction that ended `failed` or `canceled`: the model's own failure, not the HTTP call's, so a
 * 502 that another attempt would not fix (a retry policy sees the HTTP status, a success).
 */
export function predictionFailed(prediction: Json, httpStatus: number, secret?: string): GatewayError {
  const id = str(prediction.id) ?? 'unknown';
  const status = str(prediction.status) ?? 'failed';
  const why = typeof prediction.error === 'string' ? prediction.error : isObj(prediction.error) ? JSON.stringify(prediction.error) : undefined;
  const message = `replicate: prediction ${id} ${status}${why ? `: ${why.slice(0, 1000)}` : ''}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, scrub(message, secret), {
    retryable: false,
    type: 'server_error',
    upstream: { status: httpStatus, body: prediction },
  });
}

/** An answer that is not what Replicate documents (not JSON, no prediction, a URL off Replicate's hosts). */
export function badAnswer(why: string, retryable = true): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `replicate ${why}`, { retryable, type: 'server_error' });
}
