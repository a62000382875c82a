import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/** The message of a Bytez error body: `{error: "…", output: null}` (an object error's `message`, or plain text). */
function messageOf(status: number, body: unknown): string {
  const error = isObj(body) ? body.error : undefined;
  if (typeof error === 'string' && error.trim()) return error.slice(0, 1000);
  if (isObj(error) && typeof error.message === 'string') return error.message.slice(0, 1000);
  if (isObj(body) && typeof body.message === 'string') return body.message.slice(0, 1000);
  if (typeof body === 'string' && body.trim()) return body.slice(0, 1000);
  return `answered status ${status}`;
}

/** A Bytez error answer → a GatewayError: the status and Bytez's message kept; 408, 429 and 5xx retryable. */
export function mapBytezError(status: number, body: unknown, headers: Headers): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `bytez: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** A 200 answer whose `error` is set: the model failed the input; a 502 another attempt would not fix. */
export function answerError(body: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `bytez: ${messageOf(200, body)}`, {
    retryable: false,
    type: 'server_error',
    upstream: { status: 200, body },
  });
}

/** An answer that is not what Bytez documents. */
export function badAnswer(why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `bytez ${why}`, { retryable: true, type: 'server_error' });
}
