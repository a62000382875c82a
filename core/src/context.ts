import type { IncomingHttpHeaders } from 'node:http';
import type { ConfigNode, Endpoint, PlannedTarget, RoutePlan, Usage } from './types.js';
import type { GatewayError } from './errors.js';
import { AbortEmitter } from './abort.js';

/** Which header dialect the request used; a Portkey-dialect request gets Portkey's response headers too. */
export type Dialect = 'waygate' | 'portkey';

export interface AttemptRecord {
  target: string;
  provider: string;
  status?: number;
  error?: string;
  /** When the attempt started (epoch ms, sub-millisecond), and how long it took. */
  at?: number;
  ms: number;
}

export interface RequestInit {
  id: string;
  traceId?: string;
  endpoint: Endpoint;
  method: string;
  path: string;
  /** The URL's query with its `?`, or ''. */
  query?: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
  rawBody?: Uint8Array;
  /** A raw body's text fields (`EndpointDefinition.readFields`): the model is read from them as from a JSON body. */
  fields?: Record<string, string>;
  /** For a sub-request a plugin makes: the client's request it serves, and the plugin's name. */
  parent?: RequestContext;
  madeBy?: string;
}

let readState: (ctx: RequestContext, key: symbol) => unknown;
let writeState: (ctx: RequestContext, key: symbol, value: unknown) => void;

/**
 * Everything the kernel and plugins know about one request. Created once per request by the HTTP
 * layer. The fields are the kernel's: plugins read them, and change the course of a request only
 * through the methods below, whose names say what they do. A plugin keeps its own per-request data
 * in a `RequestSlot` (from `api.requestState()`), never in fields of this object.
 */
export class RequestContext {
  readonly id: string;
  readonly traceId: string;
  readonly endpoint: Endpoint;
  readonly method: string;
  /** URL path without the query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** The URL's query with its `?` (`?limit=20`), or ''. */
  readonly query: string;
  /** Incoming headers, lower-cased as Node gives them. Never log them whole: they hold keys. */
  readonly headers: IncomingHttpHeaders;
  /** For a sub-request: the client's request it serves, and the plugin that made it. */
  readonly parent?: RequestContext;
  readonly madeBy?: string;
  #body: Record<string, unknown> | undefined;
  /** The client's bytes, valid while the body is unchanged. */
  #rawBody: Uint8Array | undefined;
  /** `stream: true` was asked for. */
  readonly stream: boolean;
  /** The routing config in force (from the request's header, or the file's default). */
  readonly config!: ConfigNode;
  readonly configSource: 'header' | 'provider-header' | 'file' = 'file';
  readonly dialect: Dialect = 'waygate';
  readonly metadata: Readonly<Record<string, unknown>> = {};
  /** Per-attempt time to first byte (ms), from a header; a config's request_timeout may set its own. */
  readonly requestTimeoutMs?: number;
  /** Incoming header names to copy to the upstream request. */
  readonly forwardHeaders?: readonly string[];
  /** The headers of each upstream request sent, credentials among them (see `sentSecrets`). Never log them. */
  readonly sentHeaders?: readonly Record<string, string>[];
  /** Headers to add to the response, whoever produces it. Plugins may add entries. */
  readonly responseHeaders: Record<string, string> = {};
  /** Headers to add to every upstream request (a tracing plugin's `traceparent`). Plugins may add entries. */
  readonly upstreamHeaders: Record<string, string> = {};
  /** The route plan, made once per request (see `PluginApi.plan`). */
  readonly plan?: RoutePlan;
  /** The target being (or last) tried, or the one a cached answer stands for, and its index in the plan. */
  readonly target?: PlannedTarget;
  readonly targetIndex: number = 0;
  /** Retries made on the current target, and over the whole request. */
  readonly retryCount: number = 0;
  readonly totalRetries: number = 0;
  /** Set by a retry policy when the last target's retries were all used up on retryable failures. */
  readonly retriesExhausted: boolean = false;
  /** Absolute deadline (performance.now() ms) for all attempts together, if any. */
  readonly deadlineAt?: number;
  readonly attempts: readonly AttemptRecord[] = [];
  /** The last error an attempt raised. */
  readonly lastError?: GatewayError;
  /** Set when a stream failed after its first byte reached the client. */
  readonly streamError?: GatewayError;
  readonly usage?: Usage;
  /** The model the answer names (or the request asked for). */
  readonly model?: string;
  /** Wall-clock start (ms since epoch) and high-resolution start (ms). */
  readonly startedAt = Date.now();
  readonly t0 = performance.now();
  /** Time spent waiting on upstreams (ms), summed over attempts. */
  readonly upstreamMs: number = 0;
  /** Fires when the client goes away; the kernel passes it to undici. */
  readonly abortEmitter = new AbortEmitter();
  #signal?: AbortSignal;
  #annotations?: Record<string, unknown>;
  #state?: Map<symbol, unknown>;

  static {
    readState = (ctx, key) => ctx.#state?.get(key);
    writeState = (ctx, key, value) => void (ctx.#state ??= new Map()).set(key, value);
  }

  constructor(init: RequestInit) {
    this.id = init.id;
    this.traceId = init.traceId ?? init.id;
    this.endpoint = init.endpoint;
    this.method = init.method;
    this.path = init.path;
    this.query = init.query ?? '';
    this.headers = init.headers;
    this.#body = init.body;
    this.#rawBody = init.rawBody;
    this.stream = init.body?.stream === true;
    if (init.parent) this.parent = init.parent;
    if (init.madeBy) this.madeBy = init.madeBy;
    const model = (init.body ?? init.fields)?.model;
    if (typeof model === 'string') this.model = model;
  }

  get body(): Record<string, unknown> | undefined {
    return this.#body;
  }

  /** The client's original bytes, or undefined once the body was replaced. */
  get rawBody(): Uint8Array | undefined {
    return this.#rawBody;
  }

  /** Replaces the request body (mutators, redaction). The original bytes are no longer sent. */
  setBody(body: Record<string, unknown>): void {
    this.#body = body;
    this.#rawBody = undefined;
  }

  /** Says which planned target an answer that made no upstream call stands for (a cache hit). */
  attributeTo(target: PlannedTarget, index: number): void {
    const self = own(this);
    self.target = target;
    self.targetIndex = index;
  }

  /** A retry policy says whether the last target's retries ran out on retryable failures. */
  markRetriesExhausted(exhausted: boolean): void {
    own(this).retriesExhausted = exhausted;
  }

  /** Records that a stream failed after its first byte reached the client (a guardrail stopped it). */
  failStream(err: GatewayError): void {
    own(this).streamError = err;
  }

  /** Records the usage (and model) an answer reported; the log line and accounting read it. */
  recordUsage(found: { usage?: Usage; model?: string } | undefined): void {
    if (!found) return;
    const self = own(this);
    // Merged: some APIs report usage in parts (Anthropic: input tokens first, output tokens last).
    if (found.usage) self.usage = self.usage ? { ...self.usage, ...found.usage } : found.usage;
    if (found.model) self.model = found.model;
  }

  /** Aborted when the client goes away (or the gateway gives up on the request). Made on first use. */
  get signal(): AbortSignal {
    if (!this.#signal) {
      const ctrl = new AbortController();
      if (this.abortEmitter.aborted) ctrl.abort(this.abortEmitter.reason);
      else this.abortEmitter.once('abort', (reason: unknown) => ctrl.abort(reason));
      this.#signal = ctrl.signal;
    }
    return this.#signal;
  }

  /** Adds a field to the request's log line (a cache status, a guardrail verdict). Never put secrets here. */
  annotate(field: string, value: unknown): void {
    (this.#annotations ??= {})[field] = value;
  }

  /** The fields plugins added to the log line, if any. */
  get annotations(): Readonly<Record<string, unknown>> | undefined {
    return this.#annotations;
  }

  get aborted(): boolean {
    return this.abortEmitter.aborted;
  }

  abort(reason?: unknown): void {
    this.abortEmitter.abort(reason);
  }

  /** Milliseconds since the request arrived. */
  elapsedMs(): number {
    return performance.now() - this.t0;
  }
}

/**
 * A plugin's per-request state (from `api.requestState()`): a slot typed by the plugin, kept on the
 * request and gone with it. Each slot is its own: two slots never see each other's values.
 */
export class RequestSlot<T> {
  readonly #key: symbol;

  /** `owner` names the slot in debugging output (the plugin's name). */
  constructor(owner: string) {
    this.#key = Symbol(owner);
  }

  get(ctx: RequestContext): T | undefined {
    return readState(ctx, this.#key) as T | undefined;
  }

  set(ctx: RequestContext, value: T): void {
    writeState(ctx, this.#key, value);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type OwnedContext = Mutable<RequestContext> & { attempts: AttemptRecord[]; metadata: Record<string, unknown> };

/** The kernel's write access to a request's fields (not exported from the package). */
export const own = (ctx: RequestContext): OwnedContext => ctx as unknown as OwnedContext;
