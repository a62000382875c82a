import { ErrorCode, GatewayError } from '@waygate/core';
import { isObj } from './json.js';

/** Statuses after which another attempt may succeed: rate limits, overload and server errors. */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Maps a Cohere error answer (`{message}` or `{id, message}`) to a GatewayError with its status and message. */
export function mapCohereError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const message = isObj(body) && typeof body.message === 'string'
    ? body.message
    : isObj(body) && isObj(body.error) && typeof body.error.message === 'string'
      ? body.error.message
      : typeof body === 'string' && body
        ? body.slice(0, 1000)
        : `cohere answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, {
    retryable: RETRYABLE_STATUS.has(status) || status >= 500,
    upstream: { status, body, headers },
  });
}
