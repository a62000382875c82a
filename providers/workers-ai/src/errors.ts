import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj, num, str } from './json.js';

type Headers = Record<string, string | string[] | undefined>;

/** Workers AI's "Account limited" (429): the daily free allocation is used up; another try now meets it again. */
export const ACCOUNT_LIMITED = 3036;

/** The `errors[]` of a Cloudflare API envelope (`{code, message}` each; older answers hold strings). */
function envelopeErrors(body: unknown): Array<{ code?: number; message: string }> {
  if (!isObj(body) || !Array.isArray(body.errors)) return [];
  return body.errors.flatMap((e) => {
    if (typeof e === 'string') return [{ message: e }];
    if (isObj(e)) return [{ code: num(e.code), message: str(e.message) ?? JSON.stringify(e) }];
    return [];
  });
}

/**
 * A Workers AI error answer as a GatewayError: the status kept, each `errors[]` entry's message (and
 * its code) in the message, rate limits and server errors retryable, except the daily allocation
 * (3036), which no retry within the day fixes.
 */
export function mapWorkersAIError(status: number, body: unknown, headers: Headers): GatewayError {
  const errors = envelopeErrors(body);
  let message: string;
  if (errors.length) message = errors.map((e) => (e.code !== undefined ? `${e.message} (code ${e.code})` : e.message)).join('; ');
  else if (typeof body === 'string' && body.trim()) message = body.trim().slice(0, 1000);
  else message = `answered status ${status}`;
  const limited = errors.some((e) => e.code === ACCOUNT_LIMITED);
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `workers-ai: ${message}`, {
    retryable: isRetryableStatus(status) && !limited,
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what Workers AI documents (no `result`, `success: false` on a 200). */
export function badAnswer(why: string, body?: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `workers-ai ${why}`, {
    retryable: true,
    type: 'server_error',
    upstream: body === undefined ? undefined : { status: 200, body },
  });
}

/** A `success: false` envelope that came with a 2xx status: its errors, as a 502. */
export function failedEnvelope(body: unknown): GatewayError {
  const mapped = mapWorkersAIError(502, body, {});
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, mapped.message, { retryable: true, type: 'server_error', upstream: { status: 200, body } });
}
