import { Agent, Pool, errors as undiciErrors } from 'undici';
import type { AbortEmitter } from './abort.js';
import type { Dispatcher } from 'undici';
import type { UpstreamRequest } from './types.js';
import type { EgressPolicy } from './egress.js';
import type { FileConfig } from './config.js';
import { ErrorCode, GatewayError, answerTooLarge } from './errors.js';

export type UpstreamOptions = FileConfig['upstream'];
/** The bounds on what one answer may make the gateway hold. */
export type BodyLimits = Pick<UpstreamOptions, 'maxResponseBytes' | 'maxEventBytes' | 'maxStreamBytes'>;

/** An upstream's answer: status and headers at once, the body as it arrives. */
export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

/** Bytes buffered before the upstream is paused (back-pressure for slow clients). */
const HIGH_WATER = 64 * 1024;

/**
 * The body of an upstream answer: read whole (JSON) or iterated chunk by chunk (streams). Lighter
 * than a Readable: no stream machinery per request; back-pressure pauses the upstream socket
 * through undici when more than HIGH_WATER bytes wait unread. Read whole, it holds at most
 * `maxResponseBytes`; iterated, it passes at most `maxStreamBytes`: a byte more fails the read,
 * drops what it held and aborts the upstream at once.
 */
export class UpstreamBody implements AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #queued = 0;
  #total = 0;
  /** The limit of the read under way; none until a reader comes (HIGH_WATER pauses the upstream until then). */
  #limit: 'maxResponseBytes' | 'maxStreamBytes' | undefined;
  #ended = false;
  #error: Error | undefined;
  /** The reader waiting: for the next chunk, or (readAll) for the whole body. */
  #waiting: ((err: Error | undefined, value?: Buffer | IteratorResult<Buffer>) => void) | undefined;
  #resume: (() => void) | undefined;
  #paused = false;
  readonly #abort: (reason: Error) => void;
  readonly limits: BodyLimits;

  constructor(abort: (reason: Error) => void, limits: BodyLimits) {
    this.#abort = abort;
    this.limits = limits;
  }

  get destroyed(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /** Called by the dispatch handler; returns false to pause the upstream. */
  push(chunk: Buffer, resume: () => void): boolean {
    this.#total += chunk.length;
    if (this.#over()) return false;
    const w = this.#waiting;
    if (w && this.#limit === 'maxStreamBytes') {
      this.#waiting = undefined;
      w(undefined, { value: chunk, done: false });
      return true;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#limit !== 'maxResponseBytes' && this.#queued > HIGH_WATER) {
      this.#resume = resume;
      this.#paused = true;
      return false;
    }
    return true;
  }

  end(): void {
    this.#ended = true;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(undefined, this.#limit === 'maxResponseBytes' ? this.#concat() : { value: undefined, done: true });
  }

  fail(err: Error): void {
    if (this.destroyed) return;
    this.#error = err;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.(err);
  }

  /** The whole body, once it has arrived. */
  readAll(): Promise<Buffer> {
    this.#limit = 'maxResponseBytes';
    if (this.#over()) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(this.#concat());
    this.#unpause();
    return new Promise((resolve, reject) => {
      this.#waiting = (err, value) => (err ? reject(err) : resolve(value as Buffer));
    });
  }

  /** Stops reading: aborts the upstream request if it is still running. */
  destroy(): void {
    if (!this.destroyed) this.#stop(new Error('upstream body discarded'));
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    this.#limit = 'maxStreamBytes';
    this.#over();
    return {
      next: () => {
        if (this.#chunks.length) {
          const value = this.#chunks.shift()!;
          this.#queued -= value.length;
          if (this.#paused && this.#queued <= HIGH_WATER / 2) this.#unpause();
          return Promise.resolve({ value, done: false });
        }
        if (this.#error) return Promise.reject(this.#error);
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        this.#unpause();
        return new Promise((resolve, reject) => {
          this.#waiting = (err, value) => (err ? reject(err) : resolve(value as IteratorResult<Buffer>));
        });
      },
      return: () => {
        this.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Whether the read failed; past its limit (what arrived before a reader came counts too), it fails now. */
  #over(): boolean {
    const max = this.#limit === undefined ? Infinity : this.limits[this.#limit];
    if (this.#total > max && !this.#error) this.#stop(answerTooLarge(this.#limit!, max));
    return this.#error !== undefined;
  }

  #stop(err: Error): void {
    this.fail(err);
    this.#chunks = [];
    this.#queued = 0;
    this.#abort(err);
  }

  #unpause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const r = this.#resume;
    this.#resume = undefined;
    r?.();
  }

  #concat(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

/**
 * The kernel's only door to the network: a keep-alive undici Pool per upstream origin, shared by
 * every provider. Adapters never do I/O; they describe requests and the kernel sends them. Pools
 * are kept for at most MAX_ORIGINS origins (custom hosts could otherwise grow the map without
 * bound); the oldest one is closed gracefully (its requests finish) when a new origin needs room.
 * Requests go through undici's dispatch() with a small handler of ours: no Readable, no
 * AsyncResource per request.
 */
const MAX_ORIGINS = 256;

export class UpstreamClient {
  readonly #pools = new Map<string, Pool>();
  readonly #opts: Pool.Options;
  readonly #limits: BodyLimits;
  /** Requests to a caller's custom host: pools whose connections are under the egress policy. */
  readonly #steered: Agent;

  constructor(opts: UpstreamOptions, egress: EgressPolicy) {
    this.#limits = opts;
    this.#opts = {
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 60_000),
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs },
      pipelining: 1,
    };
    this.#steered = new Agent({ ...this.#opts, connect: egress.connector(opts.connectTimeoutMs, 'custom host') });
  }

  /**
   * Sends a request. `idleTimeoutMs` bounds the silence between two body chunks (default: the pool's
   * bodyTimeout); `steered`: the URL is a caller's, its connection goes through the egress policy.
   */
  send(req: UpstreamRequest, signal: AbortEmitter, idleTimeoutMs?: number, steered = false): Promise<UpstreamResponse> {
    // The origin is everything before the first '/' after the scheme's '//'.
    const slash = req.url.indexOf('/', req.url.indexOf('//') + 2);
    const origin = slash === -1 ? req.url : req.url.slice(0, slash);
    const path = slash === -1 ? '/' : req.url.slice(slash);
    const opts: Dispatcher.DispatchOptions = { origin, path, method: req.method, headers: req.headers, body: req.body ?? null };
    if (idleTimeoutMs !== undefined) opts.bodyTimeout = idleTimeoutMs;
    return new Promise((resolve, reject) => {
      (steered ? this.#steered : this.#pool(origin)).dispatch(opts, new ResponseHandler(signal, this.#limits, resolve, reject));
    });
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool) return pool;
    if (this.#pools.size >= MAX_ORIGINS) {
      const [oldest, old] = this.#pools.entries().next().value!;
      this.#pools.delete(oldest);
      void old.close().catch(() => undefined);
    }
    pool = new Pool(origin, this.#opts);
    this.#pools.set(origin, pool);
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all([...pools, this.#steered].map((p) => p.close().catch(() => undefined)));
  }
}

/** undici's dispatch handler (the classic callback interface): resolves at the headers, then feeds the body. */
class ResponseHandler implements Dispatcher.DispatchHandler {
  #abort: ((reason: Error) => void) | undefined;
  #body: UpstreamBody | undefined;
  #resume: (() => void) | undefined;
  #settled = false;
  readonly #signal: AbortEmitter;
  readonly #limits: BodyLimits;
  readonly #resolve: (r: UpstreamResponse) => void;
  readonly #reject: (e: Error) => void;

  constructor(signal: AbortEmitter, limits: BodyLimits, resolve: (r: UpstreamResponse) => void, reject: (e: Error) => void) {
    this.#signal = signal;
    this.#limits = limits;
    this.#resolve = resolve;
    this.#reject = reject;
    signal.once('abort', this.#onAbort);
  }

  readonly #onAbort = (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    if (this.#abort) this.#abort(err);
    else this.onError(err);
  };

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort as (reason: Error) => void;
    if (this.#signal.aborted) abort(this.#signal.reason as Error);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the real answer follows
    this.#resume = resume;
    const headers: Record<string, string | string[] | undefined> = {};
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1').toLowerCase();
      const value = rawHeaders[i + 1]!.toString('latin1');
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    this.#body = new UpstreamBody((reason) => this.#abort?.(reason), this.#limits);
    this.#settled = true;
    this.#resolve({ statusCode, headers, body: this.#body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#body!.push(chunk, this.#resume!);
  }

  onComplete(): void {
    this.#signal.removeListener('abort', this.#onAbort);
    this.#body?.end();
  }

  onError(err: Error): void {
    this.#signal.removeListener('abort', this.#onAbort);
    if (this.#settled) return this.#body?.fail(err);
    this.#settled = true;
    this.#reject(err);
  }
}

/**
 * Maps a network-level failure (no HTTP answer, or a body cut short) to a GatewayError. Connection
 * refused, reset and timeouts are retryable; the client leaving is not.
 */
export function networkError(err: unknown, provider: string, phase: 'connect' | 'body', timedOut: boolean, clientGone: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  if (clientGone) return new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request', { cause: err });
  if (timedOut || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError(ErrorCode.UPSTREAM_TIMEOUT, 408, `Request to ${provider} timed out`, {
      retryable: true,
      cause: err,
      type: 'timeout_error',
    });
  }
  const code = (err as { code?: string }).code;
  const what = phase === 'connect' ? 'Could not reach' : 'Lost the connection to';
  return new GatewayError(ErrorCode.UPSTREAM_UNREACHABLE, 502, `${what} ${provider}${code ? ` (${code})` : ''}`, {
    retryable: true,
    cause: err,
    type: 'server_error',
  });
}
