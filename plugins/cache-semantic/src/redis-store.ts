import { redactUrl } from '@waygate/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { VectorIndex } from './vector-index.js';
import type { Match } from './vector-index.js';
import type { SemanticStore } from './store.js';

/**
 * The vectors and answers in Redis, shared by every gateway replica. Per partition (all its keys in
 * one hash slot, `{<partition>}`, so the scripts also run on a cluster):
 *
 * | key          | type   | holds                                                                     |
 * |--------------|--------|---------------------------------------------------------------------------|
 * | `…:v`        | hash   | entry id → expiry (float64 LE, 8 bytes) + prompt-text hash (16 bytes) + the unit vector (float32 LE) |
 * | `…:n`        | hash   | `e` epoch (random, set when the partition is created), `c` change counter    |
 * | `…:l`        | list   | the last changes, `+id` / `-id`, one per increment of `c`                  |
 * | `…:z`        | zset   | entry id → its rank in the order stored (the lowest go first when the partition is full) |
 * | `…:a:<id>`   | string | the entry's answer (core's encodeAnswer text), with PX = its TTL          |
 *
 * Every replica keeps a local copy of the partitions it searches (a VectorIndex each) tagged with
 * the (epoch, counter) it reflects. A lookup asks Redis, in one round trip, for what changed since:
 * nothing (the usual case: the search runs on the local copy), the few changes since (applied
 * incrementally), or, when too much changed or the partition was recreated, the whole partition.
 *
 * Redis being unreachable never fails a request: commands fail fast (no offline queue, a bounded
 * command timeout), the lookup is a logged miss and the store is skipped.
 */

/** Returns the changes since (epoch, count). KEYS: v, n, l. ARGV: epoch, count, maxDelta. */
const SYNC = `
local st = redis.call('HMGET', KEYS[2], 'e', 'c')
if not st[1] then return {0} end
local e = st[1]
local c = tonumber(st[2])
if e == ARGV[1] and c == tonumber(ARGV[2]) then return {c, e} end
if e == ARGV[1] and c > tonumber(ARGV[2]) then
  local d = c - tonumber(ARGV[2])
  if d <= tonumber(ARGV[3]) and d <= redis.call('LLEN', KEYS[3]) then
    local out = {c, e, 'd'}
    local ops = redis.call('LRANGE', KEYS[3], -d, -1)
    for i = 1, #ops do
      local op = ops[i]
      out[#out + 1] = op
      if string.sub(op, 1, 1) == '+' then
        out[#out + 1] = redis.call('HGET', KEYS[1], string.sub(op, 2)) or ''
      else
        out[#out + 1] = ''
      end
    end
    return out
  end
end
local out = {c, e, 'f'}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do out[#out + 1] = all[i] end
return out
`;

/**
 * Adds an entry. KEYS: v, n, l, z, a. ARGV: id, value, answer, ttlMs, maxEntries, logMax, newEpoch,
 * answerKeyPrefix. Evicts the oldest entries past maxEntries. Returns the new counter.
 *
 * The order stored is kept by Redis itself: an entry's score is one more than the newest entry's,
 * so two entries never tie (a timestamp would: several adds in one millisecond, or replicas whose
 * clocks differ, and ZRANGE then orders the tied ids by their random names) and the lowest score is
 * always the entry stored first. A partition written with timestamps as scores stays in order too.
 */
const ADD = `
local ttl = tonumber(ARGV[4])
if redis.call('HSETNX', KEYS[2], 'e', ARGV[7]) == 1 then redis.call('HSET', KEYS[2], 'c', 0) end
local newest = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')
local rank = 1
if newest[2] then rank = tonumber(newest[2]) + 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[5], ARGV[3], 'PX', ttl)
redis.call('ZADD', KEYS[4], rank, ARGV[1])
local c = redis.call('HINCRBY', KEYS[2], 'c', 1)
redis.call('RPUSH', KEYS[3], '+' .. ARGV[1])
local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[5])
if over > 0 then
  local old = redis.call('ZRANGE', KEYS[4], 0, over - 1)
  for i = 1, #old do
    redis.call('ZREM', KEYS[4], old[i])
    redis.call('HDEL', KEYS[1], old[i])
    redis.call('DEL', ARGV[8] .. old[i])
    c = redis.call('HINCRBY', KEYS[2], 'c', 1)
    redis.call('RPUSH', KEYS[3], '-' .. old[i])
  end
end
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
for i = 1, 4 do
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return c
`;

/** Removes an entry. KEYS: v, n, l, z, a. ARGV: id, logMax. Returns 1 when it was there. */
const REMOVE = `
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'c', 1)
redis.call('RPUSH', KEYS[3], '-' .. ARGV[1])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[2]), -1)
return 1
`;

interface ScriptedRedis extends Redis {
  waygateSemSyncBuffer(...args: Array<string | number>): Promise<Array<Buffer | number>>;
  waygateSemAdd(...args: Array<string | number | Buffer>): Promise<number>;
  waygateSemRemove(...args: Array<string | number>): Promise<number>;
}

/** The few logger methods the store uses (pino's Logger has them). */
export interface MiniLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisStoreOptions {
  url: string;
  /** Prefix of every key, e.g. `waygate:semcache:`. */
  keyPrefix: string;
  /** Most entries per partition; the oldest are evicted past it. */
  maxEntriesPerPartition: number;
  /** Most vectors held in this replica's local copies (whole partitions are dropped, least recently used first). */
  maxLocalEntries: number;
  /** Bound on every command, ms. */
  commandTimeoutMs: number;
  /** Bound on the first connection, ms. */
  connectTimeoutMs: number;
  /** Changes kept in a partition's log (a replica further behind reloads the partition). */
  logMax?: number;
  logger?: MiniLogger;
  now?: () => number;
}

interface Local {
  epoch: string;
  count: number;
  index: VectorIndex | undefined;
  /** The sync under way, shared by concurrent lookups of the partition. */
  inflight?: Promise<void>;
}

/** At most one warning about Redis per this long. */
const WARN_EVERY_MS = 60_000;
const VALUE_HEADER = 24;

export class RedisSemanticStore implements SemanticStore {
  readonly #opts: RedisStoreOptions;
  readonly #client: ScriptedRedis;
  readonly #ready: Promise<boolean>;
  readonly #now: () => number;
  readonly #logMax: number;
  /** Local copies, least recently used first. */
  readonly #local = new Map<string, Local>();
  #localEntries = 0;
  #warnedAt = -Infinity;
  #suppressed = 0;
  #closed = false;
  #healthy = false;
  /** How lookups found their partitions: unchanged, brought up to date with the changes since, or reloaded whole. */
  readonly syncs = { unchanged: 0, delta: 0, full: 0 };

  constructor(opts: RedisStoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#logMax = opts.logMax ?? 1024;
    const client = new Redis(opts.url, {
      lazyConnect: true,
      // Fail at once while disconnected (a miss) instead of queueing behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    }) as ScriptedRedis;
    client.defineCommand('waygateSemSync', { numberOfKeys: 3, lua: SYNC });
    client.defineCommand('waygateSemAdd', { numberOfKeys: 5, lua: ADD });
    client.defineCommand('waygateSemRemove', { numberOfKeys: 5, lua: REMOVE });
    client.on('ready', () => {
      const was = this.#healthy;
      this.#healthy = true;
      if (!was && this.#warnedAt !== -Infinity) this.#opts.logger?.info({ redis: redactUrl(opts.url) }, 'semantic cache: Redis is reachable again');
    });
    client.on('error', (err: Error) => this.#failed(err));
    client.on('close', () => {
      const was = this.#healthy;
      this.#healthy = false;
      if (was) this.#failed(new Error('the connection to Redis closed'));
    });
    this.#client = client;
    this.#ready = client.connect().then(
      () => true,
      (err: Error) => {
        this.#failed(err);
        return false;
      },
    );
  }

  /** Resolves when the first connection attempt settled: true when Redis answered. */
  ready(): Promise<boolean> {
    return this.#ready;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Vectors held in local copies. */
  get localEntries(): number {
    return this.#localEntries;
  }

  /** This replica's local copy of a partition (tests, diagnostics). */
  localIndex(partition: string): VectorIndex | undefined {
    return this.#local.get(partition)?.index;
  }

  async sync(partitions: readonly string[]): Promise<void> {
    await Promise.all(partitions.map((p) => this.#syncOne(p)));
  }

  byText(partition: string, textHash: string, now: number): string | undefined {
    return this.#local.get(partition)?.index?.byText(textHash, now);
  }

  nearest(partition: string, vector: Float32Array, minScore: number, now: number): Match | undefined {
    const index = this.#local.get(partition)?.index;
    if (!index || index.dims !== vector.length) return undefined;
    return index.nearest(vector, now, minScore);
  }

  async answer(partition: string, id: string): Promise<string | undefined | null> {
    if (!this.#healthy) return null;
    try {
      return (await this.#client.get(this.#key(partition, `a:${id}`))) ?? undefined;
    } catch (err) {
      this.#failed(err as Error);
      return null;
    }
  }

  touch(partition: string, _id: string): void {
    const l = this.#local.get(partition);
    if (l) {
      this.#local.delete(partition);
      this.#local.set(partition, l);
    }
  }

  remove(partition: string, id: string): void {
    if (!this.#healthy) return;
    const l = this.#local.get(partition);
    if (l?.index?.remove(id)) this.#localEntries--;
    const k = this.#keys(partition);
    this.#client.waygateSemRemove(k.v, k.n, k.l, k.z, this.#key(partition, `a:${id}`), id, this.#logMax).catch((err: Error) => this.#failed(err));
  }

  async add(partition: string, vector: Float32Array, textHash: string, answer: string, ttlMs: number): Promise<void> {
    if (!this.#healthy) return;
    const now = this.#now();
    const value = Buffer.allocUnsafe(VALUE_HEADER + vector.length * 4);
    value.writeDoubleLE(now + ttlMs, 0);
    value.write(textHash.padEnd(32, '0').slice(0, 32), 8, 'hex');
    for (let i = 0; i < vector.length; i++) value.writeFloatLE(vector[i]!, VALUE_HEADER + 4 * i);
    const id = randomUUID();
    const k = this.#keys(partition);
    try {
      await this.#client.waygateSemAdd(
        k.v,
        k.n,
        k.l,
        k.z,
        this.#key(partition, `a:${id}`),
        id,
        value,
        answer,
        Math.max(1, Math.ceil(ttlMs)),
        this.#opts.maxEntriesPerPartition,
        this.#logMax,
        randomBytes(8).toString('hex'),
        this.#key(partition, 'a:'),
      );
    } catch (err) {
      this.#failed(err as Error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#healthy = false;
    try {
      if (this.#client.status === 'ready') await this.#client.quit();
    } catch {
      /* closing anyway */
    }
    this.#client.disconnect();
    this.#local.clear();
    this.#localEntries = 0;
  }

  #key(partition: string, suffix: string): string {
    return `${this.#opts.keyPrefix}{${partition}}:${suffix}`;
  }

  #keys(partition: string) {
    return { v: this.#key(partition, 'v'), n: this.#key(partition, 'n'), l: this.#key(partition, 'l'), z: this.#key(partition, 'z') };
  }

  #syncOne(partition: string): Promise<void> {
    let l = this.#local.get(partition);
    if (l?.inflight) return l.inflight;
    if (!this.#healthy) return Promise.resolve();
    if (!l) {
      l = { epoch: '', count: -1, index: undefined };
      this.#local.set(partition, l);
    } else {
      this.#local.delete(partition);
      this.#local.set(partition, l);
    }
    const local = l;
    const k = this.#keys(partition);
    const p = this.#client
      .waygateSemSyncBuffer(k.v, k.n, k.l, local.epoch, local.count, this.#logMax)
      .then(
        (reply) => this.#apply(partition, local, reply),
        (err: Error) => this.#failed(err),
      )
      .finally(() => {
        local.inflight = undefined;
      });
    local.inflight = p;
    return p;
  }

  #apply(partition: string, l: Local, reply: Array<Buffer | number>): void {
    const count = Number(reply[0]);
    if (reply.length === 1) {
      // The partition does not exist (never written, or expired).
      this.#setIndex(l, undefined);
      l.epoch = '';
      l.count = 0;
      return;
    }
    const epoch = String(reply[1]);
    if (reply.length === 2) {
      this.syncs.unchanged++;
      return;
    }
    const mode = String(reply[2]);
    const now = this.#now();
    if (mode === 'f') {
      this.syncs.full++;
      this.#setIndex(l, undefined);
      for (let i = 3; i + 1 < reply.length; i += 2) this.#put(l, String(reply[i]), reply[i + 1] as Buffer, now);
    } else {
      this.syncs.delta++;
      for (let i = 3; i + 1 < reply.length; i += 2) {
        const op = String(reply[i]);
        const id = op.slice(1);
        if (op.charCodeAt(0) === 43 /* + */) {
          const value = reply[i + 1] as Buffer;
          if (value.length > 0) this.#put(l, id, value, now);
        } else if (l.index?.remove(id)) {
          this.#localEntries--;
        }
      }
    }
    l.epoch = epoch;
    l.count = count;
    if (l.index && l.index.size === 0) this.#setIndex(l, undefined);
    this.#bound(partition);
  }

  #put(l: Local, id: string, value: Buffer, now: number): void {
    if (value.length < VALUE_HEADER + 4 || (value.length - VALUE_HEADER) % 4 !== 0) return;
    const expiresAt = value.readDoubleLE(0);
    if (expiresAt <= now) return;
    const dims = (value.length - VALUE_HEADER) / 4;
    if (l.index && l.index.dims !== dims) {
      // Vectors from another embedder configuration: the newest decide the partition's dimensions.
      this.#setIndex(l, undefined);
    }
    if (!l.index) l.index = new VectorIndex(dims);
    const had = l.index.has(id);
    l.index.addFromBuffer(id, value, VALUE_HEADER, expiresAt, value.toString('hex', 8, VALUE_HEADER));
    if (!had) this.#localEntries++;
  }

  #setIndex(l: Local, index: VectorIndex | undefined): void {
    if (l.index) this.#localEntries -= l.index.size;
    l.index = index;
    if (index) this.#localEntries += index.size;
  }

  /** Drops the least recently searched local copies past maxLocalEntries (never the one just synced). */
  #bound(keep: string): void {
    if (this.#localEntries <= this.#opts.maxLocalEntries) return;
    for (const [partition, l] of this.#local) {
      if (this.#localEntries <= this.#opts.maxLocalEntries) break;
      if (partition === keep || l.inflight) continue;
      this.#setIndex(l, undefined);
      this.#local.delete(partition);
    }
  }

  #failed(err: Error): void {
    if (this.#closed) return;
    const now = performance.now();
    if (now - this.#warnedAt < WARN_EVERY_MS) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#warnedAt = now;
    this.#opts.logger?.warn(
      { redis: redactUrl(this.#opts.url), err: err.message, ...(suppressed ? { suppressed } : {}) },
      'semantic cache: Redis failed; lookups are misses and answers are not stored until it is back',
    );
  }
}
