/**
 * Test support for packages that keep state in Redis, without a Redis client library: the Redis the
 * tests use (REDIS_URL), the "does a Redis answer?" check with the CI rule, deleting a run's keys by
 * prefix, and the few lines of RESP (Redis's wire protocol) those need.
 */
import net from 'node:net';
import tls from 'node:tls';
import { redactUrl } from '../logger.js';

/** The Redis tests run against: the REDIS_URL environment variable, else redis://127.0.0.1:6379. */
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** A decoded RESP2 reply. An error reply at the top level rejects the command instead. */
export type RespReply = string | number | null | Error | RespReply[];

/** One reply from `buf` starting at `at`, with where the next one starts; undefined while incomplete. */
function parseReply(buf: Buffer, at: number): [RespReply, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // + simple string
      return [line, next];
    case 0x2d: // - error
      return [new Error(line), next];
    case 0x3a: // : integer
      return [Number(line), next];
    case 0x24: {
      // $ bulk string
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) return undefined;
      return [buf.toString('utf8', next, next + length), next + length + 2];
    }
    case 0x2a: {
      // * array
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespReply[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('utf8', at, Math.min(eol, at + 40)))}`);
  }
}

/**
 * A minimal Redis connection for test set-up and clean-up: commands are sent in order and answered
 * in order. It authenticates and selects the database the URL names (`redis://user:pass@host:port/db`,
 * `rediss://` over TLS). Not a client to build on: no reconnection, no pipelining limits, RESP2 only.
 */
export class RespClient {
  readonly #socket: net.Socket;
  readonly #waiting: Array<{ resolve: (r: RespReply) => void; reject: (e: Error) => void }> = [];
  #buffer: Buffer = Buffer.alloc(0);
  #failure: Error | undefined;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.#socket = socket;
    socket.setTimeout(timeoutMs);
    socket.on('timeout', () => this.#fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('connection closed')));
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
  }

  /** Connects, then AUTH and SELECT as the URL says. `timeoutMs` bounds the connection and every wait for a reply. */
  static async connect(url: string, timeoutMs = 1000): Promise<RespClient> {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(u.port || 6379);
    const socket = u.protocol === 'rediss:' ? tls.connect({ host, port, servername: host }) : net.connect(port, host);
    const client = new RespClient(socket, timeoutMs);
    try {
      const password = decodeURIComponent(u.password);
      // A password given to a Redis that has none is not an error (as Redis clients treat it).
      if (password) {
        await client.command('AUTH', ...(u.username ? [decodeURIComponent(u.username)] : []), password).catch((err: Error) => {
          if (!/no password is set|without any password configured/.test(err.message)) throw err;
        });
      }
      const db = u.pathname.slice(1);
      if (db && db !== '0') await client.command('SELECT', db);
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** Sends one command; resolves with its reply, rejects with an error reply or a connection failure. */
  command(...args: string[]): Promise<RespReply> {
    if (this.#failure) return Promise.reject(this.#failure);
    let frame = `*${args.length}\r\n`;
    for (const a of args) frame += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#fail(new Error('connection closed'));
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let at = 0;
    for (;;) {
      let parsed: [RespReply, number] | undefined;
      try {
        parsed = parseReply(this.#buffer, at);
      } catch (err) {
        return this.#fail(err as Error);
      }
      if (!parsed) break;
      at = parsed[1];
      const waiter = this.#waiting.shift();
      if (parsed[0] instanceof Error) waiter?.reject(parsed[0]);
      else waiter?.resolve(parsed[0]);
    }
    this.#buffer = this.#buffer.subarray(at);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
    this.#socket.destroy();
  }
}

/** Why no Redis answers a PING at `url`, or undefined when one does. */
export async function redisUnreachable(url: string = REDIS_URL, timeoutMs = 1000): Promise<string | undefined> {
  let client: RespClient | undefined;
  try {
    client = await RespClient.connect(url, timeoutMs);
    const pong = await client.command('PING');
    return pong === 'PONG' ? undefined : `PING was answered ${JSON.stringify(pong)}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    client?.close();
  }
}

/**
 * In a hook, `before(async function () { await requireRedis(this, 'the … tests') })` (or use
 * `useRedis`): returns when a Redis answers at `url`. When none does, with CI=true the suite fails (a
 * CI run must not pass by skipping); elsewhere it prints why and how to run them, and skips the suite.
 */
export async function requireRedis(suite: { skip(): void }, what: string, url: string = REDIS_URL): Promise<void> {
  const why = await redisUnreachable(url);
  if (why === undefined) return;
  const message = `no Redis answers at ${redactUrl(url)} (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI=true requires a Redis for ${what}`);
  console.warn(`      skipping ${what}: ${message}; start one or set REDIS_URL`);
  suite.skip();
}

/**
 * In a `describe(...)` of tests that need a Redis: `requireRedis` in a `before` hook (so the suite runs,
 * fails under CI=true, or is skipped), and, when a `prefix` is given, every key under it deleted after
 * the suite. Call it before the suite's own hooks: when the suite is skipped, its `before` hooks do not run.
 */
export function useRedis(what: string, prefix?: string, url: string = REDIS_URL): void {
  let answered = false;
  before(async function () {
    await requireRedis(this, what, url);
    answered = true;
  });
  after(async () => {
    if (answered && prefix !== undefined) await deletePrefix(prefix, url);
  });
}

/** Deletes every key that starts with `prefix` (SCAN, then DEL), e.g. a test run's own keys. */
export async function deletePrefix(prefix: string, url: string = REDIS_URL): Promise<void> {
  const client = await RespClient.connect(url, 5000);
  try {
    const pattern = prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    let cursor = '0';
    do {
      const [next, keys] = (await client.command('SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000')) as [string, string[]];
      cursor = next;
      if (keys.length) await client.command('DEL', ...keys);
    } while (cursor !== '0');
  } finally {
    client.close();
  }
}
