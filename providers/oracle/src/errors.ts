import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

/**
 * OCI error answers: `{code, message}` with the status, and the `opc-request-id` header. Per OCI's
 * API errors table: 429 TooManyRequests, 500 InternalServerError and 503 ServiceUnavailable are worth
 * another attempt, and of the 409s only IncorrectState and ExternalServerIncorrectState; 400, 401,
 * 403, 404 and the other 409s (Conflict, InvalidatedRetryToken) are not.
 */
const RETRYABLE_409 = new Set(['IncorrectState', 'ExternalServerIncorrectState']);

/** Whether an OCI error is worth another attempt. */
export function isRetryableOci(status: number, code: string | undefined): boolean {
  if (status === 409) return code !== undefined && RETRYABLE_409.has(code);
  return isRetryableStatus(status) || status >= 500;
}

/** An OCI error answer as a GatewayError: status kept, `code: message` as the message. */
export function mapOracleError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const code = isObj(body) && typeof body.code === 'string' ? body.code : undefined;
  const msg = isObj(body) && typeof body.message === 'string' ? body.message : undefined;
  const message = msg ?? (typeof body === 'string' && body ? body.slice(0, 1000) : `oracle answered status ${status}`);
  const h = headers['opc-request-id'];
  const requestId = Array.isArray(h) ? h[0] : h;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${code ? `${code}: ` : ''}${message}${requestId ? ` (opc-request-id ${requestId})` : ''}`, {
    retryable: isRetryableOci(status, code),
    upstream: { status, body, headers },
  });
}
