import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

const RETRYABLE_CODES = new Set(['RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'INTERNAL', 'DEADLINE_EXCEEDED']);

function errorParts(body: unknown): { message?: string; code?: string } {
  const b = Array.isArray(body) ? body[0] : body; // streamed errors may come as a one-element array
  const err = isObj(b) && isObj(b.error) ? b.error : undefined;
  return { message: typeof err?.message === 'string' ? err.message : undefined, code: typeof err?.status === 'string' ? err.status : undefined };
}

/** A Gemini error answer as a GatewayError: status and message kept; rate limits, overload and internal errors retryable. */
export function mapGoogleError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const { message, code } = errorParts(body);
  const msg = message ?? (typeof body === 'string' && body ? body.slice(0, 1000) : `google answered status ${status}`);
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, msg, {
    retryable: isRetryableStatus(status) || (code !== undefined && RETRYABLE_CODES.has(code)),
    type: code,
    upstream: { status, body, headers },
  });
}
