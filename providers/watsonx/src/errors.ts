import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/**
 * A watsonx.ai error answer → a GatewayError with its status: the native API's
 * `{errors: [{code, message}], trace, status_code}` (each `code: message`), the model gateway's
 * OpenAI-shaped `{error: {message}}`, or text. 408, 429 and 5xx are retryable.
 */
export function mapWatsonxError(status: number, body: unknown, headers: Headers): GatewayError {
  let message: string | undefined;
  if (isObj(body) && Array.isArray(body.errors) && body.errors.length) {
    message = body.errors
      .map((e: unknown) => (isObj(e) ? [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ') : String(e)))
      .join('; ');
  } else if (isObj(body) && isObj(body.error) && typeof body.error.message === 'string') message = body.error.message;
  else if (typeof body === 'string' && body.trim()) message = body;
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `watsonx: ${(message || `answered status ${status}`).slice(0, 1000)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

export function badAnswer(why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `watsonx ${why}`, { retryable: true, type: 'server_error' });
}
