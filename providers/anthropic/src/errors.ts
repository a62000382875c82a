import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

const RETRYABLE_TYPES = new Set(['overloaded_error', 'rate_limit_error', 'api_error', 'timeout_error']);

/** An Anthropic error answer as a GatewayError: status and Anthropic's message kept; overload and rate limits retryable. */
export function mapAnthropicError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const err = isObj(body) && isObj(body.error) ? body.error : undefined;
  const type = typeof err?.type === 'string' ? err.type : undefined;
  const message =
    typeof err?.message === 'string' ? err.message : typeof body === 'string' && body ? body.slice(0, 1000) : `anthropic answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, {
    retryable: isRetryableStatus(status) || (type !== undefined && RETRYABLE_TYPES.has(type)),
    type,
    upstream: { status, body, headers },
  });
}
