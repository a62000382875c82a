import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { isObj, str } from '@waygate/provider-kit';

/**
 * Stability AI's error answers → GatewayError. v2beta sends `{ id, name, errors: [..] }`, v1
 * `{ id, name, message }`; the status is kept (400, 401, 403, 404, 413, 429, 5xx), the message is
 * Stability's, and only rate limits and server errors are retryable. A prompt refused by Stability's
 * moderation (`name: content_moderation`, a 403) is a 400 `content_filter`: the caller's input, not
 * its permissions, is what was refused, as for an image the filter withheld.
 */
export function mapStabilityError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const name = isObj(body) ? str(body.name) : undefined;
  const errors = isObj(body) && Array.isArray(body.errors) ? body.errors.filter((e: unknown): e is string => typeof e === 'string') : [];
  const detail =
    errors.length > 0
      ? errors.join('; ')
      : isObj(body) && str(body.message)
        ? (body.message as string)
        : typeof body === 'string' && body.trim()
          ? body.slice(0, 1000)
          : `status ${status}`;
  const message = `stability-ai: ${name ? `${name}: ` : ''}${detail}`;
  const upstream = { status, body, headers };
  if (name === 'content_moderation') return contentFiltered(message, upstream);
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, message, { retryable: isRetryableStatus(status) || status >= 500, upstream });
}

/** The 400 `content_filter` for what Stability's filter refused: a prompt (moderation) or an image it withheld. Not retryable. */
export function contentFiltered(message: string, upstream?: GatewayError['upstream']): GatewayError {
  return new GatewayError('content_filter', 400, message, { type: 'invalid_request_error', retryable: false, upstream });
}
