import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj } from './json.js';

type Headers = Record<string, string | string[] | undefined>;

/** The message of an Ollama error answer, `{"error": "..."}` (a plain-text body as it is). */
function messageOf(status: number, body: unknown): string {
  if (isObj(body) && typeof body.error === 'string' && body.error) return body.error;
  if (isObj(body) && isObj(body.error) && typeof body.error.message === 'string') return body.error.message;
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 1000);
  return `answered status ${status}`;
}

/** An Ollama error answer as a GatewayError: the status and Ollama's message kept; 408, 429 and 5xx retryable. */
export function mapOllamaError(status: number, body: unknown, headers: Headers): GatewayError {
  const retryAfter = headers['retry-after'];
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `ollama: ${messageOf(status, body)}`, {
    retryable: isRetryableStatus(status),
    upstream: { status, body, headers },
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  });
}

/** An answer that is not what Ollama documents: a retryable 502. */
export function badAnswer(why: string, body?: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `ollama ${why}`, {
    retryable: true,
    type: 'server_error',
    upstream: body === undefined ? undefined : { status: 200, body },
  });
}

/** An `{"error": "..."}` line inside a stream: the model failed mid-answer (a retryable 502). */
export function streamError(line: unknown): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, `ollama: ${messageOf(502, line)}`, {
    retryable: true,
    type: 'server_error',
    upstream: { status: 200, body: line },
  });
}
