import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

/** Maps a Cohere error answer (`{message}` or `{id, message}`) to a GatewayError with its status and message. */
export function mapCohereError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const message =
    isObj(body) && typeof body.message === 'string'
      ? body.message
      : isObj(body) && isObj(body.error) && typeof body.error.message === 'string'
        ? body.error.message
        : typeof body === 'string' && body
          ? body.slice(0, 1000)
          : `cohere answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, {
    retryable: isRetryableStatus(status) || status >= 500,
    upstream: { status, body, headers },
  });
}
