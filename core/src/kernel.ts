import type { Logger } from 'pino';
import type { RequestContext } from './context.js';
import type { FileConfig, LoadedConfig } from './config.js';
import type { BuildInput, EndpointAdapter, PlannedTarget, ProviderAdapter, SSEEvent } from './types.js';
import { createHooks, sealHooks, Stage } from './hooks.js';
import type { Hooks, TapOwner } from './hooks.js';
import { GatewayResponse } from './response.js';
import { ErrorCode, GatewayError } from './errors.js';
import { UpstreamClient, networkError } from './upstream.js';
import { AbortEmitter } from './abort.js';
import type { UpstreamResponse } from './upstream.js';
import { parseSSE } from './sse.js';
import { resolveRequestConfig, checkNodes } from './request-config.js';
import { StrategyRegistry } from './strategies.js';
import { EndpointRegistry, OPENAI_ENDPOINTS, OPENAI_STREAM, answerUsage, recordUsage } from './endpoints.js';
import type { EndpointDefinition, StreamFormat } from './endpoints.js';
import { NamedRegistry } from './registry.js';
import type { GuardrailCheck } from './guardrails.js';
import type { ConfigNode, RoutePlan } from './types.js';
import { CORE_VERSION } from './version.js';

const CORE = '@waygate/core';
/** A safety net against an onError policy that never stops: no request makes more attempts than this. */
const MAX_ATTEMPTS = 50;
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

export interface LoadedPluginInfo {
  name: string;
  version: string;
  kind: string;
  module: string;
}

/** A registry of provider adapters by slug; filled by provider plugins in setup(), frozen at seal. */
export class ProviderRegistry {
  readonly #map = new Map<string, ProviderAdapter & { plugin?: string }>();
  #sealed = false;

  constructor(private readonly owner: TapOwner) {}

  register(adapter: ProviderAdapter): void {
    if (this.#sealed) throw new Error('The provider registry is sealed: providers register in setup(), at start-up');
    if (!adapter || typeof adapter.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(adapter.id)) {
      throw new Error(`A provider adapter needs an id of lower-case letters, digits, ".", "_" or "-" (got ${JSON.stringify(adapter?.id)})`);
    }
    const existing = this.#map.get(adapter.id);
    if (existing) {
      throw new Error(`Provider ${JSON.stringify(adapter.id)} is already registered by ${existing.plugin ?? 'another plugin'}`);
    }
    this.#map.set(adapter.id, { ...adapter, plugin: this.owner.current });
  }

  get(id: string): ProviderAdapter | undefined {
    return this.#map.get(id);
  }

  has(id: string): boolean {
    return this.#map.has(id);
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  seal(): void {
    this.#sealed = true;
  }
}

/**
 * The microkernel. It owns the request life cycle and all I/O (sockets, timeouts, abort, the attempt
 * loop); plugins shape each step through the four hooks, and provider adapters describe upstream
 * requests without doing I/O themselves.
 */
export class Kernel {
  readonly version = CORE_VERSION;
  readonly hooks: Hooks;
  readonly providers: ProviderRegistry;
  /** Routing strategies by `strategy.mode`, and availability checks (circuit breakers). */
  readonly strategies: StrategyRegistry;
  /** The client-facing API endpoints and their wire formats (OpenAI's from the core; plugins add others). */
  readonly endpoints: EndpointRegistry;
  /**
   * Named services plugins offer each other, by kind: guardrail checks (`checks`, ids like
   * `default.regexMatch`) and cache backends (`caches`). The core only keeps them; the plugins that
   * use a kind define its contract.
   */
  readonly registries: { readonly checks: NamedRegistry<GuardrailCheck>; readonly caches: NamedRegistry<unknown> };
  readonly #configChecks: Array<(node: ConfigNode, path: string) => void> = [];
  readonly logger: Logger;
  readonly config: FileConfig;
  readonly configVersion: string;
  readonly baseDir: string;
  readonly upstream: UpstreamClient;
  readonly plugins: LoadedPluginInfo[] = [];
  /** Set by the loader around each plugin's setup(), so taps and registrations are attributed to it. */
  readonly owner: TapOwner = { current: undefined };
  readonly #closers: Array<() => unknown> = [];
  readonly #onSeal: Array<() => void> = [];
  #sealed = false;

  constructor(loaded: LoadedConfig, logger: Logger) {
    this.config = loaded.config;
    this.configVersion = loaded.version;
    this.baseDir = loaded.baseDir;
    this.logger = logger;
    this.hooks = createHooks(this.owner);
    this.providers = new ProviderRegistry(this.owner);
    this.strategies = new StrategyRegistry(this.owner);
    this.endpoints = new EndpointRegistry(this.owner);
    for (const def of OPENAI_ENDPOINTS) this.endpoints.register(def);
    this.registries = { checks: new NamedRegistry('guardrail check', this.owner), caches: new NamedRegistry('cache backend', this.owner) };
    this.upstream = new UpstreamClient(loaded.config.upstream);
    this.#tapDefaults();
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /** Registers cleanup to run when the gateway stops (close pools, flush buffers). */
  onClose(fn: () => unknown): void {
    this.#closers.push(fn);
  }

  /**
   * Adds a check run on every node of every routing config where configs are checked (at start-up for
   * the file's, once per distinct config header): a plugin that reads its own keys from the config
   * (guardrails, cache) rejects what it cannot honour with a 400 naming the path, instead of failing
   * per request or, worse, silently ignoring it.
   */
  addConfigCheck(check: (node: ConfigNode, path: string) => void): void {
    if (this.#sealed) throw new Error('The kernel is sealed: config checks are added in setup(), at start-up');
    this.#configChecks.push(check);
  }

  /** Runs the plugins' config checks on one node (called by the core's config check). */
  checkConfigNode(node: ConfigNode, path: string): void {
    for (const check of this.#configChecks) check(node, path);
  }

  /**
   * Runs `fn` at the end of start-up, once every plugin has loaded and registered what it offers, just
   * before the kernel seals: the place to check options that name what other plugins register (a
   * guardrail check id). A throw stops start-up.
   */
  onSeal(fn: () => void): void {
    if (this.#sealed) throw new Error('The kernel is sealed: onSeal() is called in setup(), at start-up');
    this.#onSeal.push(fn);
  }

  /** Ends start-up: no more taps or providers; the file's routing config is checked against what loaded. */
  seal(): void {
    for (const fn of this.#onSeal.splice(0)) fn();
    if (this.config.routing) checkNodes({ kernel: this }, this.config.routing, 'routing');
    sealHooks(this.hooks);
    this.providers.seal();
    this.strategies.seal();
    this.endpoints.seal();
    this.registries.checks.seal();
    this.registries.caches.seal();
    this.#sealed = true;
  }

  /**
   * The request's route plan, made once: by selectTarget when the kernel routes, or earlier by a
   * beforeRequest plugin that needs to know the targets (a cache keyed by target, a guardrail set on
   * a target). Either way the strategies run once per request.
   */
  async plan(ctx: RequestContext): Promise<RoutePlan> {
    if (ctx.plan) return ctx.plan;
    const plan = await this.hooks.selectTarget.promise(ctx);
    if (!plan || plan.targets.length === 0) {
      throw new GatewayError(ErrorCode.INVALID_CONFIG, 400, 'The routing config selected no target for this request');
    }
    ctx.plan = plan;
    return plan;
  }

  /** The definition of the endpoint a request is for. */
  endpointOf(ctx: RequestContext): EndpointDefinition | undefined {
    return ctx.definition ?? (ctx.definition = this.endpoints.get(ctx.endpoint));
  }

  async close(): Promise<void> {
    for (const fn of this.#closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'a plugin failed to close cleanly');
      }
    }
    await this.upstream.close();
  }

  /** The core's own defaults: ordinary taps at the latest stage, so any plugin can answer first. */
  #tapDefaults(): void {
    const opts = { name: CORE, stage: Stage.CORE_DEFAULT };
    // The plan: the config tree walked with the registered strategies (a single leaf needs none).
    this.hooks.selectTarget.tapPromise(opts, async (ctx) => ({ targets: this.strategies.plan(ctx) }));
    this.hooks.onError.tapPromise(opts, async () => ({ action: 'fail' }));
  }

  /** Runs one request through the house and returns the response to write. Never throws. */
  async handle(ctx: RequestContext): Promise<GatewayResponse> {
    let res: GatewayResponse;
    try {
      resolveRequestConfig(ctx);
      const early = this.hooks.beforeRequest.taps.length ? await this.hooks.beforeRequest.promise(ctx) : undefined;
      res = early ?? (await this.#route(ctx));
    } catch (err) {
      res = this.errorResponse(GatewayError.from(err), ctx);
    }
    if (this.hooks.afterResponse.taps.length) {
      try {
        res = await this.hooks.afterResponse.promise(res, ctx);
      } catch (err) {
        res = this.errorResponse(GatewayError.from(err), ctx);
      }
    }
    return res;
  }

  async #route(ctx: RequestContext): Promise<GatewayResponse> {
    const plan = await this.plan(ctx);
    let index = 0;
    for (let n = 0; n < MAX_ATTEMPTS; n++) {
      if (ctx.deadlineAt !== undefined && performance.now() >= ctx.deadlineAt) throw deadlineExceeded(ctx);
      const target = plan.targets[index]!;
      ctx.target = target;
      ctx.targetIndex = index;
      const started = performance.now();
      try {
        const res = await this.#attempt(ctx, target);
        ctx.attempts.push({ target: target.path, provider: target.provider, status: res.status, ms: performance.now() - started });
        return res;
      } catch (thrown) {
        const err = GatewayError.from(thrown);
        ctx.lastError = err;
        ctx.attempts.push({ target: target.path, provider: target.provider, status: err.status, error: err.code, ms: performance.now() - started });
        if (ctx.aborted) throw clientClosed();
        // An attempt cut short by the request's deadline is the deadline's failure, not the target's.
        if (ctx.deadlineAt !== undefined && performance.now() >= ctx.deadlineAt - 1) throw deadlineExceeded(ctx);
        if (!err.upstream && !isAttemptError(err)) throw err;
        const decision = (await this.hooks.onError.promise(err, ctx)) ?? { action: 'fail' as const };
        if (decision.action === 'respond') return decision.response;
        if (decision.action === 'fail') throw decision.error ?? err;
        if (decision.action === 'next') {
          if (index + 1 >= plan.targets.length) throw err;
          index++;
          ctx.retryCount = 0;
          continue;
        }
        ctx.retryCount++;
        ctx.totalRetries++;
        if (decision.delayMs && decision.delayMs > 0) {
          // A wait that would outlast the deadline is not worth starting.
          if (ctx.deadlineAt !== undefined && performance.now() + decision.delayMs >= ctx.deadlineAt) throw deadlineExceeded(ctx);
          await sleep(decision.delayMs, ctx.abortEmitter);
        }
        if (ctx.aborted) throw clientClosed();
      }
    }
    throw ctx.lastError ?? new GatewayError(ErrorCode.INTERNAL, 500, 'attempt limit reached');
  }

  /** One upstream call: build, send, map. Throws a GatewayError for anything that is not a success. */
  async #attempt(ctx: RequestContext, target: PlannedTarget): Promise<GatewayResponse> {
    const adapter = this.providers.get(target.provider)!;
    const endpoint = this.endpoints.adapterFor(adapter, ctx.endpoint);
    if (!endpoint) {
      throw new GatewayError(ErrorCode.UNSUPPORTED_ENDPOINT, 400, `Provider ${target.provider} does not support ${ctx.endpoint}`, {
        param: `${target.path}.provider`,
      });
    }
    const input = buildInput(ctx, target);
    if (endpoint.prepare) await endpoint.prepare(input);
    const req = endpoint.build(input);
    if (ctx.forwardHeaders || target.node.forward_headers) {
      for (const name of ctx.forwardHeaders ?? target.node.forward_headers!) {
        const v = ctx.headers[name.toLowerCase()];
        if (typeof v === 'string') req.headers[name.toLowerCase()] = v;
      }
    }

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
        upstream = await this.upstream.send(req, io.signal, target.node.stream_idle_timeout);
      } catch (err) {
        throw networkError(err, target.provider, 'connect', io.timedOut, ctx.aborted);
      }
      const status = upstream.statusCode;
      const headers = relayHeaders(upstream.headers);
      const contentType = String(upstream.headers['content-type'] ?? '');
      try {
        if (status >= 400) {
          const bytes = await readBody(upstream);
          throw upstreamError(endpoint, target, status, bytes, upstream.headers, headers);
        }
        if (ctx.stream && (endpoint.decodeStream !== undefined || contentType.includes('text/event-stream'))) {
          const res = await this.#openStream(ctx, target, endpoint, input, upstream, headers, io);
          handedOff = true;
          return res;
        }
        const bytes = await readBody(upstream);
        let json: unknown;
        try {
          json = bytes.length ? JSON.parse(utf8(bytes)) : undefined;
        } catch {
          throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${target.provider} answered ${status} with a body that is not valid JSON`, {
            retryable: true,
            upstream: { status },
          });
        }
        headers['content-type'] = 'application/json';
        const def = this.endpointOf(ctx);
        if (endpoint.mapResponse) {
          // Usage is read from the answer in the client's format: a translated provider's own shape differs.
          const mapped = endpoint.mapResponse(json, input);
          recordUsage(ctx, answerUsage(def, mapped));
          // An adapter that left this answer as it was (it translates only some models) keeps its bytes.
          if (mapped === json) return GatewayResponse.raw(status, bytes, headers, 'upstream', json);
          return GatewayResponse.json(status, mapped, headers, 'upstream');
        }
        recordUsage(ctx, answerUsage(def, json));
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

  /**
   * Opens a streamed answer: waits for the first event (so a failure before any byte reaches the
   * client can still be retried or fall back), then relays the rest event by event. The attempt's
   * timeout bounds the time to that first event; after it, only the client leaving or the upstream's
   * silence (the body timeout) ends the stream.
   */
  async #openStream(
    ctx: RequestContext,
    target: PlannedTarget,
    endpoint: EndpointAdapter,
    input: BuildInput,
    upstream: UpstreamResponse,
    headers: Record<string, string>,
    io: AttemptIO,
  ): Promise<GatewayResponse> {
    const events = (endpoint.decodeStream ? endpoint.decodeStream(upstream.body) : parseSSE(upstream.body))[Symbol.asyncIterator]();
    const transformer = endpoint.createStreamTransformer?.(input);
    const passthrough = transformer === undefined;
    const format: StreamFormat = this.endpointOf(ctx)?.stream ?? OPENAI_STREAM;

    // Hold events until the first one with content (OpenAI opens a chat stream with a role-only
    // chunk): until then nothing has reached the client, and a failure can still be retried.
    const held: SSEEvent[] = [];
    for (;;) {
      const next = await events.next();
      if (next.done) {
        held.push(...(transformer?.flush ? toList(transformer.flush()) : []));
        if (held.some(format.isContent)) break;
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${target.provider} ended the stream before sending any event`, {
          retryable: true,
          upstream: { status: upstream.statusCode },
        });
      }
      const out = transformer ? toList(transformer.transform(next.value)) : [next.value];
      if (out.length === 0) continue;
      const err = format.errorOf(out[0]!, target.provider);
      if (err) throw err;
      // Nothing has reached the client yet, so a malformed event is still a failed attempt that can
      // be retried or fall back (one parse, for the first events of a pass-through stream only).
      if (passthrough) {
        for (const ev of out) {
          if (!format.isEnd(ev) && !isJson(ev.data)) {
            throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${target.provider} sent a stream event that is not valid JSON`, {
              retryable: true,
              upstream: { status: upstream.statusCode },
            });
          }
        }
      }
      held.push(...out);
      if (out.some(format.isContent)) break;
    }
    const first = held;
    io.firstByte();

    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['cache-control'] = 'no-cache';
    const provider = target.provider;
    /** Records a failure after the first byte; the request's log line reports it. */
    const interrupted = (why: string): GatewayError => {
      const gerr = new GatewayError(ErrorCode.STREAM_INTERRUPTED, 502, `The stream from ${provider} failed after it started: ${why}`, {
        type: 'server_error',
      });
      ctx.lastError = gerr;
      ctx.streamError = gerr;
      return gerr;
    };
    async function* relay(): AsyncGenerator<SSEEvent> {
      let sawEnd = false;
      const seen = (ev: SSEEvent) => {
        if (format.isEnd(ev)) sawEnd = true;
        else if (format.usage) recordUsage(ctx, format.usage(ev));
      };
      try {
        for (const ev of first) {
          seen(ev);
          yield ev;
        }
        for (;;) {
          const next = await events.next();
          // At the end, what the transformer still holds (flush) goes through the same checks.
          const out = next.done ? (transformer?.flush ? toList(transformer.flush()) : []) : transformer ? toList(transformer.transform(next.value)) : [next.value];
          for (const ev of out) {
            const upstreamErr = format.errorOf(ev, provider);
            if (upstreamErr) {
              // The upstream's own error event is the terminal event; it is relayed as it is.
              interrupted(upstreamErr.message);
              yield ev;
              return;
            }
            seen(ev);
            yield ev;
          }
          if (next.done) break;
        }
        if (passthrough && !sawEnd) throw new Error('the upstream closed the stream before its proper end');
      } catch (err) {
        if (ctx.aborted) return;
        yield format.errorEvent(interrupted((err as Error).message));
      } finally {
        io.end();
        if (!upstream.body.destroyed) upstream.body.destroy();
      }
    }
    return GatewayResponse.sse(200, relay(), headers, 'upstream');
  }

  /** A response for an error raised by the kernel or a plugin, in the shape of the request's API. */
  errorResponse(err: GatewayError, ctx?: RequestContext): GatewayResponse {
    return errorResponse(err, ctx ? this.endpointOf(ctx) : undefined);
  }
}

export function errorResponse(err: GatewayError, def?: EndpointDefinition): GatewayResponse {
  const body = def?.errorBody ? def.errorBody(err) : err.toBody();
  return GatewayResponse.json(err.status, body, err.headers ? { ...err.headers } : {}, 'error');
}

function buildInput(ctx: RequestContext, target: PlannedTarget): BuildInput {
  const overrides = target.node.override_params;
  if (overrides && ctx.body) return { ctx, target, body: { ...ctx.body, ...overrides } };
  return { ctx, target, body: ctx.body, rawBody: ctx.rawBody };
}

function isAttemptError(err: GatewayError): boolean {
  return (
    err.code === ErrorCode.UPSTREAM_UNREACHABLE ||
    err.code === ErrorCode.UPSTREAM_TIMEOUT ||
    err.code === ErrorCode.UPSTREAM_BAD_RESPONSE ||
    err.code === ErrorCode.UPSTREAM_ERROR ||
    err.retryable
  );
}

function deadlineExceeded(ctx: RequestContext): GatewayError {
  return new GatewayError(ErrorCode.DEADLINE_EXCEEDED, 408, `The request's deadline passed after ${ctx.attempts.length} attempt(s)`, {
    type: 'timeout_error',
    cause: ctx.lastError,
  });
}

function clientClosed(): GatewayError {
  return new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request');
}

function toList(x: SSEEvent | SSEEvent[] | undefined): SSEEvent[] {
  if (x === undefined) return [];
  return Array.isArray(x) ? x : [x];
}

function readBody(res: UpstreamResponse): Promise<Uint8Array> {
  return res.body.readAll();
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

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

function upstreamError(
  endpoint: EndpointAdapter,
  target: PlannedTarget,
  status: number,
  bytes: Uint8Array,
  headers: Record<string, string | string[] | undefined>,
  relayed: Record<string, string>,
): GatewayError {
  const text = utf8(bytes);
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
      retryable: RETRYABLE_STATUS.has(status),
      upstream: info,
      body,
      headers: relayed,
    });
  }
  const message =
    typeof err === 'string' ? err : typeof body === 'object' && body && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : text.slice(0, 1000) || `status ${status}`;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${target.provider}: ${message}`, {
    retryable: RETRYABLE_STATUS.has(status),
    upstream: info,
    headers: relayed,
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number, signal: AbortEmitter): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeListener('abort', done);
      resolve();
    }
    signal.once('abort', done);
  });
}

/**
 * The I/O bookkeeping of one attempt: an abort signal that fires when the client leaves or the
 * attempt's timeout (time to first byte) runs out, and the upstream time it adds to the request.
 */
class AttemptIO {
  /** Only an attempt with a timeout needs a signal of its own; otherwise the request's serves. */
  readonly #own: AbortEmitter | undefined;
  readonly #ctx: RequestContext;
  readonly #t0 = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  timedOut = false;

  constructor(ctx: RequestContext, timeoutMs: number | undefined) {
    this.#ctx = ctx;
    if (timeoutMs !== undefined) {
      const own = (this.#own = new AbortEmitter());
      ctx.abortEmitter.once('abort', this.#onClientAbort);
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        own.abort(new Error('request timeout'));
      }, timeoutMs);
    }
  }

  get signal(): AbortEmitter {
    return this.#own ?? this.#ctx.abortEmitter;
  }

  readonly #onClientAbort = (reason: unknown) => this.#own!.abort(reason);

  /** The first byte (or event) arrived: the time-to-first-byte bound no longer applies. */
  firstByte(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.firstByte();
    if (this.#own) this.#ctx.abortEmitter.removeListener('abort', this.#onClientAbort);
    this.#ctx.upstreamMs += performance.now() - this.#t0;
  }
}

/** Decodes bytes as UTF-8 without copying them when they already are a Buffer. */
function utf8(bytes: Uint8Array): string {
  return Buffer.isBuffer(bytes) ? bytes.toString('utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
