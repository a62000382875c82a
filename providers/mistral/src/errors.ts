import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj, str } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/** FastAPI's validation details (`[{loc, msg}]`) as one line: `body.max_completion_tokens: Extra inputs are not permitted`. */
function details(detail: unknown): string | undefined {
  if (!Array.isArray(detail)) return undefined;
  const parts = detail.filter(isObj).map((d) => {
    const loc = Array.isArray(d.loc) ? d.loc.join('.') : '';
    const msg = Array.isArray(d.msg) ? d.msg.join(' ') : (str(d.msg) ?? '');
    return loc ? `${loc}: ${msg}` : msg;
  });
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * The message of a Mistral error answer: `{object: "error", message, type, param, code}` (its
 * `message` a string, or `{detail: [...]}` for a 422), `{message, request_id}` (401, 429), or
 * `{detail}` (401 `Unauthorized`, a 422's validation list).
 */
function messageOf(status: number, body: unknown): string {
  if (isObj(body)) {
    if (typeof body.message === 'string' && body.message) return body.message;
    if (isObj(body.message)) return details(body.message.detail) ?? str(body.message.detail) ?? JSON.stringify(body.message).slice(0, 1000);
    if (typeof body.detail === 'string' && body.detail) return body.detail;
    const d = details(body.detail);
    if (d) return d;
    if (isObj(body.error) && typeof body.error.message === 'string') return body.error.message;
  }
  if (typeof body === 'string' && body.trim()) return body.slice(0, 1000);
  return `answered status ${status}`;
}

/** A Mistral error answer as a GatewayError: status and message kept, 429 and 5xx retryable, Retry-After passed on. */
export function mapMistralError(status: number, body: unknown, headers: Headers): GatewayError {
  const retryAfter = headers['retry-after'];
  const type = isObj(body) ? str(body.type) : undefined;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `mistral-ai: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    type,
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what Mistral documents. */
export function badAnswer(why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `mistral-ai ${why}`, { retryable: true, type: 'server_error' });
}
