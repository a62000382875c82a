/**
 * One error type for the whole gateway. Every failure that reaches a client is a GatewayError:
 * a stable `code`, an HTTP `status`, whether another attempt could succeed (`retryable`), and where
 * it came from (`plugin`, `hook`). Its body follows OpenAI's error shape so SDKs surface the message.
 */

export interface UpstreamErrorInfo {
  /** The upstream's HTTP status, or undefined for a connection-level failure. */
  status?: number;
  /** The upstream's answer body, parsed when it was JSON. */
  body?: unknown;
  /** Selected upstream response headers (retry-after and friends) for retry policies. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface GatewayErrorOptions {
  retryable?: boolean;
  type?: string;
  param?: string | null;
  plugin?: string;
  hook?: string;
  cause?: unknown;
  upstream?: UpstreamErrorInfo;
  /** A body to send instead of the default OpenAI-shaped one (e.g. an upstream's own error body). */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** Stable codes. A client may branch on these; they never change meaning. */
export const ErrorCode = {
  INVALID_JSON: 'invalid_json',
  INVALID_REQUEST: 'invalid_request',
  INVALID_CONFIG: 'invalid_config',
  INVALID_HEADER: 'invalid_header',
  MISSING_PROVIDER: 'missing_provider',
  UNKNOWN_PROVIDER: 'unknown_provider',
  UNSUPPORTED_ENDPOINT: 'unsupported_endpoint',
  MISSING_CREDENTIALS: 'missing_credentials',
  FORBIDDEN_HOST: 'forbidden_custom_host',
  BODY_TOO_LARGE: 'body_too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported_media_type',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  UPSTREAM_ERROR: 'upstream_error',
  NO_AVAILABLE_TARGET: 'no_available_target',
  DEADLINE_EXCEEDED: 'deadline_exceeded',
  UPSTREAM_UNREACHABLE: 'upstream_unreachable',
  UPSTREAM_TIMEOUT: 'upstream_timeout',
  UPSTREAM_BAD_RESPONSE: 'upstream_bad_response',
  STREAM_INTERRUPTED: 'stream_interrupted',
  CLIENT_CLOSED: 'client_closed_request',
  PLUGIN_ERROR: 'plugin_error',
  SHUTTING_DOWN: 'shutting_down',
  INTERNAL: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly type: string;
  readonly param: string | null;
  plugin?: string;
  hook?: string;
  readonly upstream?: UpstreamErrorInfo;
  readonly body?: unknown;
  /** Response headers to send with the error (an upstream's retry-after and rate-limit headers, say). */
  headers?: Record<string, string>;

  constructor(code: string, status: number, message: string, opts: GatewayErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = status;
    this.retryable = opts.retryable ?? false;
    this.type = opts.type ?? defaultType(status);
    this.param = opts.param ?? null;
    const { plugin, hook, upstream, body, headers } = opts;
    Object.assign(this, { plugin, hook, upstream, body, headers });
  }

  /** The body sent to the client: the error's own body if it carries one, else OpenAI's error shape. */
  toBody(): unknown {
    if (this.body !== undefined) return this.body;
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }

  /** Turns anything thrown into a GatewayError; unknown throwables become a 500 (a bug). */
  static from(err: unknown, where?: { plugin?: string; hook?: string }): GatewayError {
    if (err instanceof GatewayError) {
      if (where?.plugin && !err.plugin) err.plugin = where.plugin;
      if (where?.hook && !err.hook) err.hook = where.hook;
      return err;
    }
    const message = err instanceof Error ? err.message : String(err);
    const origin = where?.plugin ? ` in plugin ${where.plugin}${where.hook ? ` (hook ${where.hook})` : ''}` : '';
    return new GatewayError(ErrorCode.INTERNAL, 500, `Internal error${origin}: ${message}`, { cause: err, ...where, type: 'server_error' });
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 408) return 'timeout_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Shorthand for a 400 that says what is wrong with the caller's input. */
export function badRequest(code: string, message: string, param?: string): GatewayError {
  return new GatewayError(code, 400, message, { param: param ?? null });
}

/** An upstream answer over one of the `upstream.*Bytes` limits (the upstream is aborted). */
export function answerTooLarge(option: string, max: number): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `upstream answer exceeded upstream.${option} (${max} bytes)`, { type: 'server_error' });
}

const RETRYABLE_STATUS: ReadonlySet<number> = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

/**
 * Whether an upstream status is worth another attempt: timeouts, conflicts, too early, rate limits,
 * server errors and Anthropic's 529 (overloaded). The one list every adapter and policy uses.
 */
export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status);
