import { Redis } from 'ioredis';
import { redactUrl } from '@waygate/core';

/** What changed, as replicas tell each other: one key, one team (its keys' cached entries), or everything. */
export type Invalidation = { kind: 'key'; id: string } | { kind: 'team'; id: string } | { kind: 'all' };

export interface FanoutLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Revocations and changes fanned out between replicas over Redis pub/sub, so that each may cache key
 * lookups and still refuse a revoked key as soon as the message arrives. Pub/sub delivers at most
 * once: while the subscription is not up (Redis away, reconnecting) `ready` is false and the caller
 * must not trust its cache; each time it comes up again `onReady` runs (the caller drops its cache,
 * since messages may have been missed).
 */
export class Fanout {
  readonly #sub: Redis;
  readonly #pub: Redis;
  readonly #channel: string;
  #ready = false;
  #closed = false;
  readonly #waiters: Array<() => void> = [];

  constructor(url: string, channel: string, handlers: { onMessage(m: Invalidation): void; onReady(): void }, logger: FanoutLogger, timeoutMs = 1000) {
    this.#channel = channel;
    const options = {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResubscribe: false,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 8), 5000),
    };
    this.#sub = new Redis(url, options);
    this.#pub = new Redis(url, { ...options, commandTimeout: timeoutMs });
    const down = (err?: Error) => {
      if (this.#ready && !this.#closed)
        logger.warn({ redis: redactUrl(url), err: err?.message }, 'auth: the invalidation channel is down: key lookups go to the store until it is back');
      this.#ready = false;
    };
    this.#sub.on('error', down);
    this.#sub.on('close', () => down());
    this.#sub.on('ready', () => {
      this.#sub.subscribe(channel).then(
        () => {
          if (this.#closed) return;
          this.#ready = true;
          handlers.onReady();
          for (const w of this.#waiters.splice(0)) w();
          logger.info({ redis: redactUrl(url), channel }, 'auth: listening for key changes');
        },
        (err: Error) => down(err),
      );
    });
    this.#sub.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      try {
        const m = JSON.parse(text) as Invalidation;
        if (m && (m.kind === 'all' || ((m.kind === 'key' || m.kind === 'team') && typeof m.id === 'string'))) handlers.onMessage(m);
      } catch {
        /* not ours */
      }
    });
    this.#pub.on('error', () => undefined);
    this.#sub.connect().catch((err: Error) => down(err));
    this.#pub.connect().catch(() => undefined);
  }

  /** Whether the subscription is up: only then may a replica serve a lookup from its cache. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Tells every replica (this one too). Rejects when Redis does not take it. */
  async publish(m: Invalidation): Promise<number> {
    return this.#pub.publish(this.#channel, JSON.stringify(m));
  }

  /** Resolves once the subscription is up, or rejects after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the Redis subscription did not come up within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#ready = false;
    this.#sub.disconnect();
    this.#pub.disconnect();
  }
}
