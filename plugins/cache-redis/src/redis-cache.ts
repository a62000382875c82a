import { Redis } from 'ioredis';
import { redactUrl } from '@waygate/core';
import { encodeAnswer, decodeAnswer } from '@waygate/cache-engine';
import type { CachedAnswer, ExactCacheBackend } from '@waygate/cache-engine';

/** What the backend logs through (pino's signature; a test passes its own). */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisCacheSettings {
  url: string;
  /** Prefix of every key written (`waygate:cache:` by default). */
  keyPrefix: string;
  /** Longest wait for one command; past it the lookup is a miss. */
  commandTimeoutMs: number;
  /** Longest wait for a connection to open. */
  connectTimeoutMs: number;
  /** Longest wait between two reconnection attempts while Redis is away. */
  maxReconnectDelayMs: number;
  /** At most one warning per this long while Redis stays unavailable. */
  warnIntervalMs: number;
  /** Entries whose serialized form is larger than this are not written. */
  maxEntryBytes: number;
}

/**
 * The exact-cache backend in Redis: one string per entry (the compact text `encodeAnswer` makes)
 * under `keyPrefix + key`, written with `SET key value PX ttl` so Redis expires it, read with GET.
 *
 * Redis trouble never fails or stalls a request: while the connection is not ready a lookup is a
 * miss at once and a store is skipped (no offline queue); a command that takes longer than
 * `commandTimeoutMs` is a miss; the client reconnects in the background; a warning is logged at most
 * once per `warnIntervalMs` with the number of lookups and stores that Redis missed since the last.
 */
export class RedisCache implements ExactCacheBackend {
  readonly #client: Redis;
  readonly #settings: RedisCacheSettings;
  readonly #logger: CacheLogger | undefined;
  readonly #now: () => number;
  #lastWarn = -Infinity;
  #missed = 0;
  #down = false;
  #closed = false;

  constructor(settings: RedisCacheSettings, deps: { logger?: CacheLogger; now?: () => number } = {}) {
    this.#settings = settings;
    this.#logger = deps.logger;
    this.#now = deps.now ?? Date.now;
    const client = new Redis(settings.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      // A command caught by a dropped connection fails at once instead of being retried later.
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), settings.maxReconnectDelayMs),
    });
    client.on('error', (err: Error) => this.#trouble(err));
    client.on('close', () => {
      if (!this.#closed) this.#trouble(new Error('connection closed'));
    });
    client.on('ready', () => {
      if (this.#down) {
        this.#down = false;
        this.#logger?.info({ redis: redactUrl(settings.url), missed: this.#missed }, 'cache: Redis is reachable again');
        this.#missed = 0;
        this.#lastWarn = -Infinity;
      }
    });
    this.#client = client;
    // Connects in the background: a gateway starts (and answers, uncached) while Redis is away.
    client.connect().catch((err: Error) => this.#trouble(err));
  }

  /** Whether commands are being sent (the connection is open and ready). */
  get ready(): boolean {
    return !this.#closed && this.#client.status === 'ready';
  }

  /** The client's connection state (`connecting`, `ready`, `reconnecting`, `end`, ...). */
  get status(): string {
    return this.#client.status;
  }

  /** Resolves once the connection is ready (or rejects after timeoutMs): for tests and health checks. */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = this.#now() + timeoutMs;
    while (!this.ready) {
      if (this.#now() > until) throw new Error(`Redis at ${redactUrl(this.#settings.url)} not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    if (!this.ready) {
      this.#trouble(new Error(`not connected (${this.#client.status})`), true);
      return undefined;
    }
    let text: string | null;
    try {
      text = await this.#client.get(this.#settings.keyPrefix + key);
    } catch (err) {
      this.#trouble(err as Error, true);
      return undefined;
    }
    return text === null ? undefined : decodeAnswer(text);
  }

  set(key: string, entry: CachedAnswer, ttlMs: number): Promise<void> | void {
    if (!this.ready) {
      this.#trouble(new Error(`not connected (${this.#client.status})`), true);
      return;
    }
    const text = encodeAnswer(entry);
    if (Buffer.byteLength(text) > this.#settings.maxEntryBytes) return;
    return this.#client.set(this.#settings.keyPrefix + key, text, 'PX', Math.max(1, Math.ceil(ttlMs))).then(
      () => undefined,
      (err: Error) => this.#trouble(err, true),
    );
  }

  /** Closes the connection: QUIT (bounded), then a hard disconnect. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.status === 'ready') {
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 500).unref())]);
    }
    client.disconnect();
  }

  /** Counts a lookup or store Redis missed and warns, at most once per warnIntervalMs. */
  #trouble(err: Error, missed = false): void {
    if (this.#closed) return;
    if (missed) this.#missed++;
    this.#down = this.#down || !this.ready;
    const now = this.#now();
    if (now - this.#lastWarn < this.#settings.warnIntervalMs) return;
    this.#lastWarn = now;
    this.#logger?.warn(
      { redis: redactUrl(this.#settings.url), err: err.message, missed: this.#missed },
      'cache: Redis is unavailable; lookups are misses and answers are not stored until it is back',
    );
  }
}
