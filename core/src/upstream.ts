import { Pool, errors as undiciErrors } from 'undici';
import type { AbortEmitter } from './abort.js';
import type { Dispatcher } from 'undici';
import type { UpstreamRequest } from './types.js';
import { ErrorCode, GatewayError } from './errors.js';

export interface UpstreamOptions {
  connectionsPerOrigin: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export type UpstreamResponse = Dispatcher.ResponseData;

/**
 * The kernel's only door to the network: a keep-alive undici Pool per upstream origin, shared by
 * every provider. Adapters never do I/O; they describe requests and the kernel sends them. Pools
 * are kept for at most MAX_ORIGINS origins (custom hosts could otherwise grow the map without
 * bound); the oldest one is closed gracefully (its requests finish) when a new origin needs room.
 */
const MAX_ORIGINS = 256;

export class UpstreamClient {
  readonly #pools = new Map<string, Pool>();
  readonly #opts: Pool.Options;

  constructor(opts: UpstreamOptions) {
    this.#opts = {
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 60_000),
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs },
      pipelining: 1,
    };
  }

  /** Sends a request. `idleTimeoutMs` bounds the silence between two body chunks (default: the pool's bodyTimeout). */
  send(req: UpstreamRequest, signal: AbortEmitter, idleTimeoutMs?: number): Promise<UpstreamResponse> {
    // The origin is everything before the first '/' after the scheme's '//'.
    const slash = req.url.indexOf('/', req.url.indexOf('//') + 2);
    const origin = slash === -1 ? req.url : req.url.slice(0, slash);
    const path = slash === -1 ? '/' : req.url.slice(slash);
    const opts: Dispatcher.RequestOptions = { path, method: req.method, headers: req.headers, body: req.body, signal };
    if (idleTimeoutMs !== undefined) opts.bodyTimeout = idleTimeoutMs;
    return this.#pool(origin).request(opts);
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
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }
}

/**
 * Maps a network-level failure (no HTTP answer, or a body cut short) to a GatewayError. Connection
 * refused, reset and timeouts are retryable; the client leaving is not.
 */
export function networkError(err: unknown, provider: string, phase: 'connect' | 'body', timedOut: boolean, clientGone: boolean): GatewayError {
  if (err instanceof GatewayError) return err;
  if (clientGone) {
    return new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request', { cause: err });
  }
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
