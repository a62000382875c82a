import { ErrorCode, GatewayError, badRequest, isRetryableStatus } from '@waygate/core';
import type { BuildInput, EndpointAdapter, RequestContext, StreamTransformer, UpstreamRequest } from '@waygate/core';

/**
 * The provider-native passthrough: `/v1/passthrough/{provider}/{rest}` is sent to that provider as
 * `{its API root}/{rest}{query}` with the client's method, body bytes and content type, the
 * provider's own credentials in its own header, and the answer (JSON, an SSE stream, or bytes)
 * relayed as it came. This module is what every adapter's `passthrough.native` endpoint shares:
 * reading (and refusing) the path, the API root of a base URL, the headers that go upstream, and
 * the endpoint adapter itself.
 */

/** The id of the endpoint (a gateway key's `endpoints` rules name it; `passthrough*` covers it and `passthrough`). */
export const NATIVE_PASSTHROUGH = 'passthrough.native';
/** Where its routes start: `/v1/passthrough/{provider}/{rest}`. */
export const NATIVE_PREFIX = '/v1/passthrough/';

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;
/** What a segment of `{rest}` may hold: RFC 3986 path characters (unreserved, sub-delims, `:`, `@`) and percent escapes. */
const SEGMENT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;
/** Percent escapes of what would change a path's meaning once decoded: `.`, `/`, `\`, and control characters. */
const ESCAPED = /%(?:2e|2f|5c|[01][0-9a-f]|7f)/i;
/** A scheme (`http:`, `file:`): the first segment of an absolute URL. */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

const refuse = (why: string) => badRequest(ErrorCode.INVALID_REQUEST, `${NATIVE_PREFIX}{provider}/{path}: ${why}`, 'path');

/**
 * The provider slug and the path below it of a native passthrough request's path (without its query).
 * Throws a 400 for a path that could leave the provider's API root: empty, `.` or `..` segments (also
 * percent-encoded), `//`, backslashes, a scheme (an absolute URL), encoded slashes, control characters.
 */
export function nativeRoute(path: string): { provider: string; rest: string } {
  if (!path.startsWith(NATIVE_PREFIX)) throw refuse(`the path must start with ${NATIVE_PREFIX}`);
  const after = path.slice(NATIVE_PREFIX.length);
  const slash = after.indexOf('/');
  const provider = slash === -1 ? after : after.slice(0, slash);
  if (!SLUG.test(provider)) throw refuse(`${JSON.stringify(provider.slice(0, 64))} is not a provider slug`);
  const rest = slash === -1 ? '' : after.slice(slash + 1);
  if (!rest) throw refuse(`name the provider's own path after /${provider}/ (e.g. ${NATIVE_PREFIX}${provider}/v1/models)`);
  if (rest.includes('\\')) throw refuse('backslashes are not allowed');
  if (ESCAPED.test(rest)) throw refuse('percent-encoded dots, slashes, backslashes and control characters are not allowed');
  if (SCHEME.test(rest)) throw refuse('an absolute URL is not allowed: give a path on the provider');
  const segments = rest.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    // A trailing slash is kept (`/v1/files/`); an empty segment anywhere else is `//`.
    if (s === '' && i === segments.length - 1) continue;
    if (s === '' || s === '.' || s === '..') throw refuse('empty, "." and ".." segments are not allowed');
    if (!SEGMENT.test(s)) throw refuse(`the segment ${JSON.stringify(s.slice(0, 64))} holds characters a URL path cannot`);
  }
  return { provider, rest };
}

/** A base URL's API root: without the trailing version segment (`https://api.openai.com/v1` → `https://api.openai.com`, `…/v1beta` → origin). */
export function apiRoot(baseURL: string): string {
  return baseURL.replace(/\/+$/, '').replace(/\/v\d+(?:(?:alpha|beta)\d*)?$/i, '');
}

/**
 * Request headers never sent upstream: hop-by-hop ones (RFC 9110 §7.6.1), the ones the HTTP client
 * recomputes, every credential header a caller may send (the gateway sets the provider's own), and
 * `accept-encoding` (answers are relayed decoded as they came, without their encoding header).
 */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'accept-encoding',
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** The caller's own key in a provider's own header (what that provider's SDK sends), for a target that holds none. */
export function callerHeader(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** The client's headers that go upstream: all but hop-by-hop, credential and gateway (`x-waygate-*`, `x-portkey-*`) ones, and those named by `Connection`. */
export function forwardedHeaders(ctx: RequestContext): Record<string, string> {
  const h = ctx.headers;
  const connection =
    typeof h.connection === 'string'
      ? h.connection
          .toLowerCase()
          .split(',')
          .map((s) => s.trim())
      : [];
  const out: Record<string, string> = {};
  for (const name in h) {
    if (DROPPED.has(name) || name.startsWith('x-waygate-') || name.startsWith('x-portkey-') || connection.includes(name)) continue;
    const v = h[name];
    if (typeof v === 'string') out[name] = v;
    else if (Array.isArray(v)) out[name] = v.join(', ');
  }
  return out;
}

export interface NativePassthroughOptions {
  /** The provider's credentials (and any header it requires), from the target; they win over the client's headers of the same name. */
  auth(input: BuildInput): Record<string, string | undefined>;
  /** Headers sent when the client sent none of that name (Anthropic's `anthropic-version`). */
  defaults?(input: BuildInput): Record<string, string | undefined>;
  /** The API root `{rest}` is appended to; default: the target's base URL without its version segment. */
  root?(input: BuildInput): string;
}

/** A stream relayed event by event as it came: a copy of each (so no event is required to be JSON, and no end marker is expected). */
class AsItCame implements StreamTransformer {
  transform(ev: { event?: string; id?: string; data: string }) {
    return { ...ev };
  }
}

/**
 * An upstream error answer, relayed as the provider sent it: its status, its JSON body as it is
 * (so a native SDK reads its own error shape), or OpenAI's shape around a body that is not JSON.
 */
export function relayError(provider: string) {
  return (status: number, body: unknown): GatewayError => {
    const json = body !== null && typeof body === 'object';
    const message = json ? messageOf(body) : typeof body === 'string' && body ? body.slice(0, 1000) : `status ${status}`;
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${provider}: ${message}`, {
      retryable: isRetryableStatus(status),
      upstream: { status, body },
      ...(json ? { body } : {}),
    });
  };
}

function messageOf(body: object): string {
  const o = body as { message?: unknown; error?: unknown };
  if (typeof o.message === 'string') return o.message;
  if (typeof o.error === 'string') return o.error;
  const e = o.error as { message?: unknown } | undefined;
  if (e && typeof e === 'object' && typeof e.message === 'string') return e.message;
  return 'error';
}

/** The URL a native passthrough request goes to; a 400 if it would not stay under the API root (a last check after the path's). */
export function nativeURL(root: string, ctx: RequestContext): string {
  const { rest } = nativeRoute(ctx.path);
  const base = root.replace(/\/+$/, '');
  const url = `${base}/${rest}${ctx.query}`;
  let parsed: URL;
  let rootURL: URL;
  try {
    parsed = new URL(url);
    rootURL = new URL(`${base}/`);
  } catch {
    throw refuse('the path does not make a URL on the provider');
  }
  if (parsed.origin !== rootURL.origin || !parsed.pathname.startsWith(rootURL.pathname)) throw refuse('the path leaves the provider API root');
  return url;
}

/** The `passthrough.native` endpoint of a provider: see the module's comment. */
export function nativePassthrough(provider: string, opts: NativePassthroughOptions): EndpointAdapter {
  return {
    build(input: BuildInput): UpstreamRequest {
      const { ctx, target } = input;
      const root = opts.root ? opts.root(input) : apiRoot(target.baseURL ?? '');
      const url = nativeURL(root, ctx);
      const headers = forwardedHeaders(ctx);
      const defaults = opts.defaults?.(input);
      for (const k in defaults) if (defaults[k] !== undefined && headers[k] === undefined) headers[k] = defaults[k]!;
      const auth = opts.auth(input);
      for (const k in auth) if (auth[k] !== undefined) headers[k] = auth[k]!;
      const method = ctx.method as UpstreamRequest['method'];
      const req: UpstreamRequest = { url, method, headers };
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
        // The client's bytes as they came (a JSON body is re-serialized only if a plugin changed it).
        req.body = input.rawBody ?? (input.body ? JSON.stringify(input.body) : new Uint8Array(0));
        headers['content-type'] ??= 'application/octet-stream';
      }
      return req;
    },
    createStreamTransformer: () => new AsItCame(),
    mapError: relayError(provider),
  };
}
