import type { IncomingHttpHeaders } from 'node:http';
import type { ConfigNode, Endpoint, PlannedTarget, RoutePlan, Usage } from './types.js';
import type { Kernel } from './kernel.js';
import type { EndpointDefinition } from './endpoints.js';
import type { GatewayError } from './errors.js';
import { AbortEmitter } from './abort.js';

/** Which header dialect the request used; a Portkey-dialect request gets Portkey's response headers too. */
export type Dialect = 'waygate' | 'portkey';

export interface AttemptRecord {
  target: string;
  provider: string;
  status?: number;
  error?: string;
  ms: number;
}

/**
 * Everything the kernel and plugins know about one request. Created once per request by the HTTP
 * layer; plugins keep their own per-request data under `state[pluginName]`.
 */
export class RequestContext {
  readonly id: string;
  traceId: string;
  readonly endpoint: Endpoint;
  /** The endpoint's definition (its wire format); set by the HTTP layer, else looked up on first use. */
  definition?: EndpointDefinition;
  readonly method: string;
  /** URL path without the query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Incoming headers, lower-cased as Node gives them. Never log them whole: they hold keys. */
  readonly headers: IncomingHttpHeaders;
  readonly kernel: Kernel;
  /** The parsed request body (OpenAI format). Replace it with setBody() so adapters know it changed. */
  #body: Record<string, unknown> | undefined;
  /** The client's bytes, valid while the body is unchanged. */
  #rawBody: Uint8Array | undefined;
  /** `stream: true` was asked for. */
  readonly stream: boolean;
  /** The routing config in force (from the request's header, or the file's default). */
  config!: ConfigNode;
  configSource: 'header' | 'provider-header' | 'file' = 'file';
  dialect: Dialect = 'waygate';
  metadata: Record<string, unknown> = {};
  /** Per-attempt time to first byte (ms), from a header; a config's request_timeout may set its own. */
  requestTimeoutMs?: number;
  /** Incoming header names to copy to the upstream request. */
  forwardHeaders?: string[];
  /** Headers to add to the response, whoever produces it. */
  readonly responseHeaders: Record<string, string> = {};
  /** Per-plugin scratch space. */
  readonly state: Record<string, unknown> = {};
  plan?: RoutePlan;
  /** The target being (or last) tried, its index in the plan, and retries made on it. */
  target?: PlannedTarget;
  targetIndex = 0;
  /** Retries made on the current target, and over the whole request. */
  retryCount = 0;
  totalRetries = 0;
  /** Set by a retry policy when the last target's retries were all used up on retryable failures. */
  retriesExhausted = false;
  /** Absolute deadline (performance.now() ms) for all attempts together, if any. */
  deadlineAt?: number;
  readonly attempts: AttemptRecord[] = [];
  /** The last error an attempt raised. */
  lastError?: GatewayError;
  /** Set when a stream failed after its first byte reached the client. */
  streamError?: GatewayError;
  usage?: Usage;
  /** The model the answer names (or the request asked for). */
  model?: string;
  /** Wall-clock start (ms since epoch) and high-resolution start (ms). */
  readonly startedAt = Date.now();
  readonly t0 = performance.now();
  /** Time spent waiting on upstreams (ms), summed over attempts. */
  upstreamMs = 0;
  /** Fires when the client goes away; the kernel passes it to undici. */
  readonly abortEmitter = new AbortEmitter();
  #signal?: AbortSignal;
  #annotations?: Record<string, unknown>;

  constructor(init: {
    id: string;
    traceId?: string;
    endpoint: Endpoint;
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: Record<string, unknown> | undefined;
    rawBody?: Uint8Array;
    kernel: Kernel;
  }) {
    this.id = init.id;
    this.traceId = init.traceId ?? init.id;
    this.endpoint = init.endpoint;
    this.method = init.method;
    this.path = init.path;
    this.headers = init.headers;
    this.#body = init.body;
    this.#rawBody = init.rawBody;
    this.stream = init.body?.stream === true;
    this.kernel = init.kernel;
    const model = init.body?.model;
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
