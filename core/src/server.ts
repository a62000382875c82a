import http from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Koa from 'koa';
import type { Kernel } from './kernel.js';
import { errorResponse } from './kernel.js';
import { RequestContext } from './context.js';
import type { EndpointDefinition } from './contracts.js';
import { GatewayResponse } from './response.js';
import { ErrorCode, GatewayError, badRequest } from './errors.js';
import { parseSize } from './config.js';
import { serializeSSE } from './sse.js';
import { scrub, sentSecrets } from './logger.js';
import { checkDepth } from './request-config.js';

export interface GatewayServer {
  readonly server: http.Server;
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Stops accepting, lets in-flight requests and streams finish up to the deadline, then closes everything. */
  close(deadlineMs?: number): Promise<void>;
  /** Serves new requests with `next`; closes the kernel it replaces once that one's requests and streams have finished. */
  swap(next: Kernel): Promise<void>;
}

/**
 * The HTTP layer (Koa): routes, reads and parses the body once, builds the request context, asks the
 * kernel for a response and writes it (JSON, or SSE event by event with back-pressure). It also
 * writes the one log line per request.
 */
export function createServer(first: Kernel): { app: Koa; listen(port: number, host: string): Promise<GatewayServer> } {
  let current = first;
  /** Requests in flight per kernel: a kernel swapped out is closed once its own have finished. */
  const held = new Map<Kernel, number>();
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const bodyLimit = parseSize(first.config.server.bodyLimit);
  const started = Date.now();
  let draining = false;
  const idle: Array<() => void> = [];
  /** The requests in flight (with their contexts once made): a drain waits for them, and at its deadline tells them why it ends them. */
  const live = new Map<http.ServerResponse, RequestContext | undefined>();
  const whenIdle = (ms: number) =>
    live.size > 0 &&
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      idle.push(() => r(clearTimeout(t)));
    });

  app.use(async (koa) => {
    const kernel = current;
    const req = koa.req;
    const res = koa.res;
    koa.respond = false;
    const qs = req.url!.indexOf('?');
    const path = qs === -1 ? req.url! : req.url!.slice(0, qs);
    const requestId = randomUUID();
    if (draining) res.setHeader('connection', 'close');

    if (path === '/health' || path === '/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return writeError(res, methodNotAllowed(req.method!, path), requestId);
      const health = {
        status: draining ? 'draining' : 'ok',
        version: kernel.version,
        config_version: kernel.configVersion,
        uptime_s: Math.round((Date.now() - started) / 1000),
        plugins: kernel.plugins.map((p) => ({ name: p.name, version: p.version, kind: p.kind })),
      };
      return writeJson(res, draining ? 503 : 200, JSON.stringify(health), { 'x-waygate-request-id': requestId });
    }

    const methods = kernel.endpoints.route(path);
    if (!methods) {
      const served = kernel.routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
      if (served) return served.handler(req, res).catch((err: unknown) => writeError(res, GatewayError.from(err), requestId));
      return writeError(res, new GatewayError(ErrorCode.NOT_FOUND, 404, `No route for ${req.method} ${path}`), requestId);
    }
    const definition = methods.get(req.method!);
    if (!definition) return writeError(res, methodNotAllowed(req.method!, path), requestId, methods.values().next().value);
    if (draining) return writeError(res, new GatewayError(ErrorCode.SHUTTING_DOWN, 503, 'The gateway is shutting down', { retryable: true }), requestId);

    live.set(res, undefined);
    held.set(kernel, (held.get(kernel) ?? 0) + 1);
    let ctx: RequestContext | undefined;
    let response: GatewayResponse | undefined;
    try {
      let body: Record<string, unknown> | undefined;
      let rawBody: Buffer | undefined;
      let fields: Record<string, string> | undefined;
      if (req.method === 'POST') {
        rawBody = await readRequestBody(req, bodyLimit);
        // A raw endpoint takes any body; a JSON one is still parsed (the model is known, and checked), a form's fields read.
        if (!definition.raw || /json/i.test(req.headers['content-type'] ?? '')) body = parseJsonBody(req, rawBody, kernel.config.server.maxJsonDepth);
        else if (definition.readFields) fields = await definition.readFields(rawBody, req.headers['content-type'] ?? '');
      }
      const query = qs === -1 ? '' : req.url!.slice(qs);
      ctx = new RequestContext({ id: requestId, endpoint: definition.id, method: req.method!, path, query, headers: req.headers, body, rawBody, fields });
      const c = ctx;
      live.set(res, c);
      res.once('close', () => {
        if (!res.writableFinished) c.abort(new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request'));
      });
      response = await kernel.handle(ctx);
      await writeResponse(res, ctx, response);
    } catch (err) {
      const gerr = GatewayError.from(err);
      response = errorResponse(gerr, definition);
      if (!res.headersSent) writeError(res, gerr, requestId, definition);
      else res.destroy();
    } finally {
      live.delete(res);
      held.set(kernel, held.get(kernel)! - 1);
      logRequest(kernel, res, path, requestId, ctx, response);
      if (live.size === 0) for (const fn of idle.splice(0)) fn();
    }
  });

  return {
    app,
    listen(port, host) {
      // The time a client has to send its request (not to read the answer), checked often enough for the shorter bound.
      const { headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout, keepAliveTimeoutMs: keepAliveTimeout } = first.config.server;
      const connectionsCheckingInterval = Math.min(30_000, Math.ceil(headersTimeout / 4));
      const server = http.createServer({ headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval }, app.callback());
      const sockets = new Set<Socket>();
      server.on('connection', (s) => {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve({
            server,
            port: addr.port,
            host: addr.address,
            url: `http://${shownHost}:${addr.port}`,
            async swap(next) {
              const old = current;
              current = next;
              while (held.get(old)) await new Promise((r) => setTimeout(r, 25));
              held.delete(old);
              await old.close();
            },
            async close(deadlineMs = current.config.server.shutdownTimeoutMs) {
              draining = true;
              // net's close stops listening; http's would also drop idle keep-alive connections, which
              // then could not hear the 503 (of /health, say) that their next request gets.
              const closed = new Promise<void>((r) => NetServer.prototype.close.call(server, () => r()));
              await whenIdle(deadlineMs);
              // At the deadline, what still runs is told why: streams end with a terminal error event.
              for (const c of live.values())
                c?.abort(new GatewayError(ErrorCode.SHUTTING_DOWN, 503, 'The gateway is shutting down', { type: 'server_error' }));
              await whenIdle(1000);
              for (const s of sockets) s.destroy();
              await closed;
              server.close(); // http's own bookkeeping (its timer that checks connections)
              await current.close();
            },
          });
        });
      });
    },
  };
}

const methodNotAllowed = (method: string, path: string) => new GatewayError(ErrorCode.METHOD_NOT_ALLOWED, 405, `${method} is not allowed on ${path}`);

/** Reads the request body, refusing more than `limit` bytes (413) before reading it when the length is declared. */
function readRequestBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  // Past the limit nothing more is kept; the first of reject and resolve settles the promise.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if ((size += chunk.length) > limit) reject(tooLarge(limit));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', (err) => reject(new GatewayError(ErrorCode.CLIENT_CLOSED, 499, `Reading the request body failed: ${err.message}`)));
  });
}

const tooLarge = (limit: number) =>
  new GatewayError(ErrorCode.BODY_TOO_LARGE, 413, `The request body is larger than this gateway's limit of ${limit} bytes`);

function parseJsonBody(req: http.IncomingMessage, raw: Buffer, maxDepth: number): Record<string, unknown> {
  const type = req.headers['content-type'];
  if (raw.length === 0) throw badRequest(ErrorCode.INVALID_REQUEST, 'The request body is empty; send a JSON object');
  if (!type || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415, `Content-Type must be application/json (got ${type ? JSON.stringify(type) : 'none'})`);
  }
  const text = raw.toString('utf8');
  checkDepth(text, maxDepth, 'The request body');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw badRequest(ErrorCode.INVALID_JSON, `The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw badRequest(ErrorCode.INVALID_REQUEST, 'The request body must be a JSON object');
  return json as Record<string, unknown>;
}

function writeJson(res: http.ServerResponse, status: number, body: Uint8Array | string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  headers['content-type'] ??= 'application/json';
  headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  // One writeHead with every header: cheaper than a setHeader call (and its checks) per header.
  res.writeHead(status, headers);
  res.end(body);
}

function writeError(res: http.ServerResponse, err: GatewayError, requestId: string, def?: EndpointDefinition): void {
  const body = def?.errorBody ? def.errorBody(err) : err.toBody();
  writeJson(res, err.status, JSON.stringify(body), { ...err.headers, 'x-waygate-request-id': requestId });
}

/** The response's own headers object, completed in place (each response owns a fresh one). */
function responseHeaders(ctx: RequestContext, response: GatewayResponse): Record<string, string> {
  const h = response.headers;
  for (const k in ctx.responseHeaders) h[k] = ctx.responseHeaders[k]!;
  h['x-waygate-request-id'] = ctx.id;
  const target = ctx.target;
  if (ctx.traceId !== ctx.id || ctx.headers['x-waygate-trace-id'] !== undefined) h['x-waygate-trace-id'] = ctx.traceId;
  if (target) {
    h['x-waygate-target'] = target.path;
    h['x-waygate-provider'] = target.provider;
    h['x-waygate-retry-count'] = String(ctx.totalRetries);
  }
  if (ctx.dialect === 'portkey') {
    h['x-portkey-trace-id'] = ctx.traceId;
    if (target) {
      h['x-portkey-provider'] = target.provider;
      // Portkey writes the JSON path of the target that answered, and -1 when retries ran out.
      h['x-portkey-last-used-option-index'] = target.path;
      h['x-portkey-retry-attempt-count'] = ctx.retriesExhausted ? '-1' : String(ctx.totalRetries);
    }
  }
  return h;
}

async function writeResponse(res: http.ServerResponse, ctx: RequestContext, response: GatewayResponse): Promise<void> {
  const headers = responseHeaders(ctx, response);
  // What an upstream echoed of the credentials the gateway sent (and the caller did not) never reaches the caller.
  const scrubbed = (text: string) => (ctx.sentHeaders ? scrub(text, sentSecrets(ctx, true)) : text);
  // A binary answer (audio, a file) as it arrives; a client that leaves stops the upstream, a failure cuts the connection.
  if (response.bytes) {
    res.writeHead(response.status, headers);
    return pipeline(Readable.from(response.bytes, { objectMode: false }), res);
  }
  if (!response.stream) {
    writeJson(res, response.status, response.status < 400 ? response.serialize() : scrubbed(Buffer.from(response.serialize()).toString()), headers);
    return;
  }
  headers['content-type'] ??= 'text/event-stream; charset=utf-8';
  // The headers go out with the first event (held until then), not in a packet of their own.
  res.writeHead(response.status, headers);
  const iterator = response.stream[Symbol.asyncIterator]();
  // Events that arrive in the same tick (one upstream read often holds several) leave in one write:
  // one string, rather than a corked write per event, which cost more than the rest of the relay.
  let batch = '';
  const flush = () => {
    if (batch !== '' && !res.destroyed && !res.writableEnded) res.write(batch);
    batch = '';
  };
  try {
    for (;;) {
      // A client that reads slowly holds the stream back (and, through the relay, the upstream).
      if (res.writableNeedDrain) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      const next = await iterator.next();
      if (next.done || res.destroyed) break;
      if (batch === '') process.nextTick(flush);
      batch += ctx.streamError ? scrubbed(serializeSSE(next.value)) : serializeSSE(next.value);
    }
  } finally {
    await iterator.return?.();
  }
  // A stream the gateway cut (it shuts down) closes its connection after the terminal event: not a clean end.
  if (ctx.aborted) {
    if (batch !== '' && !res.destroyed) res.write(batch);
    res.socket?.end();
  } else if (!res.destroyed) res.end(batch);
}

function logRequest(kernel: Kernel, res: http.ServerResponse, path: string, requestId: string, ctx?: RequestContext, response?: GatewayResponse): void {
  const logger = kernel.logger;
  const req = res.req;
  const status = ctx?.aborted && !res.writableFinished ? 499 : (response?.status ?? res.statusCode);
  const level = status >= 500 ? 'error' : status >= 400 || ctx?.streamError ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const totalMs = ctx ? ctx.elapsedMs() : undefined;
  const line: Record<string, unknown> = { reqId: requestId, method: req.method, route: path, status };
  if (ctx) {
    if (ctx.traceId !== requestId) line.traceId = ctx.traceId;
    line.provider = ctx.target?.provider;
    line.target = ctx.target?.path;
    line.model = ctx.model;
    line.stream = ctx.stream;
    line.totalMs = round(totalMs!);
    line.upstreamMs = round(ctx.upstreamMs);
    line.overheadMs = round(totalMs! - ctx.upstreamMs);
    if (ctx.attempts.length > 1) line.attempts = ctx.attempts.length;
    line.promptTokens = ctx.usage?.prompt_tokens;
    line.completionTokens = ctx.usage?.completion_tokens;
    const extra = ctx.annotations;
    if (extra) for (const k in extra) if (!(k in line)) line[k] = extra[k];
    const err = status >= 400 ? ctx.lastError : ctx.streamError;
    if (err) {
      line.errorCode = err.code;
      line.error = scrub(err.message, sentSecrets(ctx, false));
    }
  }
  if (response && response.status >= 400 && !line.errorCode) {
    const body = response.body as { error?: { code?: unknown; message?: unknown } } | undefined;
    if (body?.error) {
      line.errorCode = body.error.code;
      if (typeof body.error.message === 'string') line.error = ctx ? scrub(body.error.message, sentSecrets(ctx, false)) : body.error.message;
    }
  }
  logger[level](line, 'request');
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
