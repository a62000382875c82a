import type { RequestContext } from './context.js';
import type { BuildInput, EndpointAdapter, EndpointDefinition, ProviderAdapter } from './contracts.js';
import type { PlannedTarget } from './types.js';
import type { UpstreamClient, UpstreamResponse } from './upstream.js';
import type { EndpointRegistry } from './endpoints.js';
import type { NamedRegistry } from './registry.js';
import { GatewayResponse } from './response.js';
import { own } from './context.js';
import { ErrorCode, GatewayError, isRetryableStatus } from './errors.js';
import { networkError } from './upstream.js';
import { AttemptIO } from './attempt-io.js';
import { answerUsage } from './endpoints.js';
import { openStream } from './stream-relay.js';

/** Upstream response headers not relayed to the client (hop-by-hop, or recomputed by us). */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'content-type',
  'date',
  'server',
  'set-cookie',
  'proxy-authenticate',
  'upgrade',
  'trailer',
  'te',
]);

/** What one attempt uses of the kernel. */
export interface AttemptServices {
  readonly providers: NamedRegistry<ProviderAdapter>;
  readonly endpoints: EndpointRegistry;
  readonly upstream: UpstreamClient;
}

/**
 * One upstream call: the adapter builds the request, the kernel sends it, the adapter maps the
 * answer (JSON, or a stream handed to the relay). Throws a GatewayError for anything that is not a
 * success; the attempt loop decides what comes next.
 */
export async function attempt(
  k: AttemptServices,
  ctx: RequestContext,
  target: PlannedTarget,
  def: EndpointDefinition | undefined,
): Promise<GatewayResponse> {
  const adapter = k.providers.get(target.provider)!;
  const endpoint = k.endpoints.adapterFor(adapter, ctx.endpoint);
  if (!endpoint) {
    throw new GatewayError(ErrorCode.UNSUPPORTED_ENDPOINT, 400, `Provider ${target.provider} does not support ${ctx.endpoint}`, {
      param: `${target.path}.provider`,
    });
  }
  const input = buildInput(ctx, target, def);
  if (endpoint.prepare) await endpoint.prepare(input);
  const req = endpoint.build(input);
  const forward = ctx.forwardHeaders ?? target.node.forward_headers;
  if (forward) {
    for (const name of forward) {
      const v = ctx.headers[name.toLowerCase()];
      if (typeof v === 'string') req.headers[name.toLowerCase()] = v;
    }
  }
  Object.assign(req.headers, ctx.upstreamHeaders);
  own(ctx).sentHeaders = [...(ctx.sentHeaders ?? []), req.headers];

  let timeoutMs = ctx.requestTimeoutMs ?? target.node.request_timeout;
  if (ctx.deadlineAt !== undefined) {
    const left = Math.max(1, Math.ceil(ctx.deadlineAt - performance.now()));
    if (timeoutMs === undefined || left < timeoutMs) timeoutMs = left;
  }
  const io = new AttemptIO(ctx, timeoutMs);
  let handedOff = false;
  try {
    let upstream: UpstreamResponse;
    try {
      // A custom host that is not the config file's is the caller's: under the egress policy.
      const steered = target.node.custom_host !== undefined && ctx.configSource !== 'file';
      upstream = await k.upstream.send(req, io.signal, target.node.stream_idle_timeout, steered);
    } catch (err) {
      throw networkError(err, target.provider, 'connect', io.timedOut, ctx.aborted);
    }
    const status = upstream.statusCode;
    const headers = relayHeaders(upstream.headers);
    const contentType = String(upstream.headers['content-type'] ?? '');
    try {
      if (status >= 400) {
        const bytes = await upstream.body.readAll();
        throw upstreamError(endpoint, target, status, bytes, upstream.headers, headers);
      }
      if (ctx.stream && (endpoint.decodeStream !== undefined || contentType.includes('text/event-stream'))) {
        const res = await openStream(ctx, target, endpoint, input, upstream, headers, io, def?.stream);
        handedOff = true;
        return res;
      }
      if (def?.raw && !/json/i.test(contentType)) {
        io.firstByte(); // the headers were its first byte: from here the idle timeout bounds the body, as a stream's
        handedOff = true;
        return GatewayResponse.binary(status, relayBytes(upstream, io), { ...headers, 'content-type': contentType });
      }
      const bytes = await upstream.body.readAll();
      let json: unknown;
      try {
        json = bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined;
      } catch {
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${target.provider} answered ${status} with a body that is not valid JSON`, {
          retryable: true,
          upstream: { status },
        });
      }
      headers['content-type'] = 'application/json';
      if (endpoint.mapResponse) {
        // Usage is read from the answer in the client's format: a translated provider's own shape differs.
        const mapped = endpoint.mapResponse(json, input, upstream.headers);
        ctx.recordUsage(answerUsage(def, mapped));
        // An adapter that left this answer as it was (it translates only some models) keeps its bytes.
        if (mapped === json) return GatewayResponse.raw(status, bytes, headers, 'upstream', json);
        return GatewayResponse.json(status, mapped, headers, 'upstream');
      }
      ctx.recordUsage(answerUsage(def, json));
      return GatewayResponse.raw(status, bytes, headers, 'upstream', json);
    } catch (err) {
      if (!upstream.body.destroyed) upstream.body.destroy();
      if (err instanceof GatewayError) throw err;
      throw networkError(err, target.provider, 'body', io.timedOut, ctx.aborted);
    }
  } finally {
    if (!handedOff) io.end();
  }
}

function buildInput(ctx: RequestContext, target: PlannedTarget, definition: EndpointDefinition | undefined): BuildInput {
  const overrides = target.node.override_params;
  if (overrides && ctx.body) return { ctx, target, definition, body: { ...ctx.body, ...overrides } };
  return { ctx, target, definition, body: ctx.body, rawBody: ctx.rawBody };
}

function relayHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in h) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    const v = h[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function upstreamError(
  endpoint: EndpointAdapter,
  target: PlannedTarget,
  status: number,
  bytes: Buffer,
  headers: Record<string, string | string[] | undefined>,
  relayed: Record<string, string>,
): GatewayError {
  const text = bytes.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  const mapped = endpoint.mapError?.(status, body, headers);
  if (mapped) {
    mapped.headers ??= relayed;
    return mapped;
  }
  const info = { status, body, headers };
  const err = (body as { error?: unknown } | null)?.error;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    // Already in OpenAI's shape: relay it as it is, so code/param/type survive.
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, (err as { message: string }).message, {
      retryable: isRetryableStatus(status),
      upstream: info,
      body,
      headers: relayed,
    });
  }
  const message =
    typeof err === 'string'
      ? err
      : typeof body === 'object' && body && typeof (body as { message?: unknown }).message === 'string'
        ? (body as { message: string }).message
        : text.slice(0, 1000) || `status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${target.provider}: ${message}`, {
    retryable: isRetryableStatus(status),
    upstream: info,
    headers: relayed,
  });
}

/** A binary answer's bytes as they arrive (at most `maxStreamBytes`): the attempt lasts until the last, or until the reader stops (which drops the upstream). */
async function* relayBytes(upstream: UpstreamResponse, io: AttemptIO): AsyncGenerator<Buffer> {
  try {
    yield* upstream.body;
  } finally {
    io.end();
  }
}
