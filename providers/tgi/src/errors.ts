import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj, str } from '@waygate/provider-kit';

type Headers = Record<string, string | string[] | undefined>;

/**
 * TGI's error answers are `{error, error_type}`: 422 `validation`, 424 `generation` (the request
 * failed while generating), 429 `overloaded`, 500 `incomplete_generation`; a Hugging Face Inference
 * Endpoint in front answers `{error}` (401 for a bad token, 503 while the model loads).
 */
function messageOf(status: number, body: unknown): string {
  if (isObj(body)) {
    const m = str(body.error) ?? (isObj(body.error) ? str(body.error.message) : undefined) ?? str(body.message);
    if (m) return m;
  }
  if (typeof body === 'string' && body.trim()) return body.slice(0, 1000);
  return `answered status ${status}`;
}

/** A TGI error answer as a GatewayError: the status and TGI's message kept, overload and server errors retryable. */
export function mapTgiError(status: number, body: unknown, headers: Headers, provider = 'tgi'): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${provider}: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** The HTTP status an error event of a stream (`{error, error_type}` in a 200 stream) stands for. */
const STREAM_STATUS: Readonly<Record<string, number>> = { validation: 422, generation: 424, overloaded: 429 };

/** An error event in TGI's stream: a validation error is the caller's (not retryable); overload and anything else are retryable. */
export function streamError(body: unknown, provider = 'tgi'): GatewayError {
  const type = isObj(body) ? str(body.error_type) : undefined;
  const status = (type ? STREAM_STATUS[type] : undefined) ?? 502;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${provider} stream error${type ? ` (${type})` : ''}: ${messageOf(status, body)}`, {
    retryable: status === 429 || status === 502,
    upstream: { status: 200, body },
  });
}

/** An answer that is not what TGI documents (not JSON, no generated text). */
export function badAnswer(provider: string, why: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${provider} ${why}`, { retryable: true, type: 'server_error' });
}
