import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

const RETRYABLE_TYPES = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelNotReadyException',
  'ModelTimeoutException',
]);

/** The AWS error type of an answer: `x-amzn-errortype` (before any `:`), else the body's `__type`. */
export function awsErrorType(body: unknown, headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers['x-amzn-errortype'];
  const raw = (Array.isArray(h) ? h[0] : h) ?? (isObj(body) && typeof body.__type === 'string' ? body.__type : undefined);
  if (!raw) return undefined;
  const t = raw.split(':')[0]!;
  return t.includes('#') ? t.slice(t.lastIndexOf('#') + 1) : t;
}

/** A Bedrock error answer as a GatewayError: status and AWS's message kept; throttling and 5xx retryable. */
export function mapBedrockError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const type = awsErrorType(body, headers);
  const msg = isObj(body) ? (body.message ?? body.Message) : undefined;
  const message = typeof msg === 'string' ? msg : typeof body === 'string' && body ? body.slice(0, 1000) : `bedrock answered status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, type ? `${type}: ${message}` : message, {
    retryable: isRetryableStatus(status) || (type !== undefined && RETRYABLE_TYPES.has(type)),
    upstream: { status, body, headers },
  });
}
