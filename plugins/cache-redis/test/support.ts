// Test support: an OpenAI-shaped upstream on loopback that counts its calls, a TCP proxy in front of
// Redis that a test can cut and restore, a log capture, and the check that a Redis answers.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { CacheLogger } from '../src/index.js';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Why no Redis answers at `url`, or undefined when one does. */
export async function redisUnreachable(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    probe.disconnect();
  }
}

/**
 * In a suite's `before`: with CI=true a missing Redis fails the suite; elsewhere the suite is skipped
 * with a message that says how to run it.
 */
export async function requireRedis(ctx: Mocha.Context, what: string): Promise<void> {
  const why = await redisUnreachable(REDIS_URL);
  if (!why) return;
  const message = `no Redis answers at ${REDIS_URL.replace(/:[^:@/]*@/, ':***@')} (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI=true requires a Redis for ${what}`);
  console.warn(`      skipping ${what}: ${message}; start one or set REDIS_URL`);
  ctx.skip();
}

/** Deletes every key under a prefix. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

export class Logs implements CacheLogger {
  readonly lines: Array<{ level: string; msg: string; obj: Record<string, unknown> }> = [];
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj: obj as Record<string, unknown> });
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
  }
}

/** A tiny OpenAI chat upstream: JSON answers or an SSE stream (three content chunks), a new id per call. */
export class ChatUpstream {
  calls = 0;
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<ChatUpstream> {
    const server = http.createServer();
    const up = new ChatUpstream(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string; stream?: boolean };
        const id = `chatcmpl-${++up.calls}`;
        const model = body.model ?? 'm';
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const head = { id, object: 'chat.completion.chunk', created: 1, model };
          const send = (choices: unknown[]) => res.write(`data: ${JSON.stringify({ ...head, choices })}\n\n`);
          send([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
          for (const w of ['Shared ', 'by ', 'replicas']) send([{ index: 0, delta: { content: w }, finish_reason: null }]);
          send([{ index: 0, delta: {}, finish_reason: 'stop' }]);
          res.end('data: [DONE]\n\n');
          return;
        }
        const answer = {
          id,
          object: 'chat.completion',
          created: 1,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Shared by replicas' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return up;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A TCP proxy to Redis that the test stops (every connection cut, the port closed) and restarts on the same port. */
export class TcpProxy {
  readonly #sockets = new Set<net.Socket>();
  readonly #clients = new Set<net.Socket>();
  #server: net.Server | undefined;
  port = 0;

  private constructor(
    readonly host: string,
    readonly targetPort: number,
  ) {}

  static async start(redisUrl: string): Promise<TcpProxy> {
    const u = new URL(redisUrl);
    const p = new TcpProxy(u.hostname, Number(u.port || 6379));
    await p.resume();
    return p;
  }

  /** A Redis URL that goes through this proxy (credentials and database kept). */
  urlFor(redisUrl: string): string {
    const u = new URL(redisUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.href;
  }

  async resume(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      this.#clients.add(client);
      client.on('close', () => this.#clients.delete(client));
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Keeps connections open but stops forwarding what clients send: a Redis that no longer answers. */
  freeze(): void {
    for (const s of this.#clients) s.pause();
  }

  thaw(): void {
    for (const s of this.#clients) s.resume();
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

/** Polls until `check` holds, or fails after timeoutMs. */
export async function eventually(timeoutMs: number, check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
