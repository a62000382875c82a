import { Agent, request, errors as undiciErrors } from 'undici';
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
 * The kernel's only door to the network: one undici Agent (a keep-alive pool per upstream origin),
 * shared by every provider. Adapters never do I/O; they describe requests and the kernel sends them.
 */
export class UpstreamClient {
  readonly agent: Agent;

  constructor(opts: UpstreamOptions) {
    this.agent = new Agent({
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      keepAliveMaxTimeout: Math.max(opts.keepAliveTimeoutMs, 60_000),
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyTimeoutMs,
      connect: { timeout: opts.connectTimeoutMs },
      pipelining: 1,
    });
  }

  send(req: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse> {
    return request(req.url, {
      dispatcher: this.agent,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
    });
  }

  close(): Promise<void> {
    return this.agent.close();
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
