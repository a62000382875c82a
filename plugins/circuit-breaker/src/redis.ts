import { redactUrl } from '@waygate/core';
import { Redis } from 'ioredis';
import { MemoryStore, WINDOW_BUCKETS } from './memory.js';
import type { Clock } from './memory.js';
import type { BreakerOptions } from './options.js';
import type { Admission, BreakerStore, CircuitState, StateChange } from './types.js';

/** How long shared counters and the "tripped" marker outlive their last write (bounds stale keys). */
const RETAIN_MS = 3_600_000;
/** A replica stops polling a closed target it has not used for this long. */
const IDLE_MS = 600_000;
/** At most one "Redis is unavailable" warning per this long while it stays down. */
const WARN_EVERY_MS = 60_000;

/**
 * Records one outcome atomically. KEYS: open, tripped, stats, probes. ARGV: failed (1/0), bucketMs,
 * buckets, failureThreshold, errorRatio, minRequests, cooldownMs, retainMs.
 * Returns {state, pttl, why}: state 0 closed, 1 open (pttl = ms left); why 1 consecutive failures,
 * 2 error ratio, 3 a half-open probe failed, 4 a half-open probe succeeded, 0 nothing changed.
 *
 * - `open` exists (PX cooldown) while the circuit is open; outcomes of requests let through earlier
 *   do not change it.
 * - `tripped` outlives `open`: once `open` has expired, its presence means half-open, until a
 *   success closes the circuit (deleting it) or a failure opens it again.
 * - `stats` is a hash: `c` consecutive failures, `t<bucket>` / `f<bucket>` requests and failures per
 *   window bucket (Redis's own clock, so replicas agree on buckets); stale buckets are pruned here.
 */
const RECORD = `
local failed = ARGV[1] == '1'
local cooldown = tonumber(ARGV[7])
local retain = tonumber(ARGV[8])
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then return {1, pttl, 0} end
local function trip(why)
  redis.call('SET', KEYS[1], '1', 'PX', cooldown)
  redis.call('SET', KEYS[2], '1', 'PX', cooldown + retain)
  redis.call('DEL', KEYS[3], KEYS[4])
  return {1, cooldown, why}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  if failed then return trip(3) end
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  return {0, 0, 4}
end
local bucketMs = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local b = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / bucketMs)
local consec = 0
if failed then
  consec = redis.call('HINCRBY', KEYS[3], 'c', 1)
  redis.call('HINCRBY', KEYS[3], 'f' .. b, 1)
else
  redis.call('HSET', KEYS[3], 'c', 0)
end
redis.call('HINCRBY', KEYS[3], 't' .. b, 1)
redis.call('PEXPIRE', KEYS[3], retain)
local total, fails = 0, 0
local fields = redis.call('HGETALL', KEYS[3])
local stale = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  local kind = string.sub(f, 1, 1)
  if kind ~= 'c' then
    if tonumber(string.sub(f, 2)) <= b - n then
      stale[#stale + 1] = f
    elseif kind == 't' then
      total = total + tonumber(fields[i + 1])
    else
      fails = fails + tonumber(fields[i + 1])
    end
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[3], unpack(stale)) end
if failed then
  if consec >= tonumber(ARGV[4]) then return trip(1) end
  if total >= tonumber(ARGV[6]) and fails / total >= tonumber(ARGV[5]) then return trip(2) end
end
return {0, 0, 0}
`;

/**
 * Claims one half-open probe slot for this replica. KEYS: open, tripped, probes. ARGV: halfOpenProbes,
 * probeTimeoutMs. Returns {1, pttl} still open, {0, 0} closed, {2, 1} half-open and a slot was
 * claimed, {2, 0} half-open and every slot is taken. Slots are a counter with a lease (PX), so a
 * replica that dies holding one does not block the target for longer than the lease.
 */
const CLAIM = `
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then return {1, pttl} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {0, 0} end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[1]) then return {2, 0} end
if redis.call('INCR', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[2])) end
return {2, 1}
`;

/**
 * Gives back probe slots a replica claimed and did not use. KEYS: probes. ARGV: how many. The
 * counter keeps its lease; it never goes below zero.
 */
const GIVE_BACK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECRBY', KEYS[1], math.min(n, tonumber(ARGV[1]))) end
return 0
`;

type Reply = [number, number, number?];

interface ScriptedRedis extends Redis {
  waygateCbRecord(...args: Array<string | number>): Promise<Reply>;
  waygateCbClaim(...args: Array<string | number>): Promise<Reply>;
}

interface ScriptedPipeline {
  waygateCbGiveBack(key: string, count: number): unknown;
}

/** The few logger methods the store uses (pino's Logger has them). */
export interface MiniLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisStoreDeps {
  /** Monotonic milliseconds for the local cache. Default performance.now. */
  now?: Clock;
  logger?: MiniLogger;
  onChange?: (change: StateChange) => void;
  /** Milliseconds to wait for a connection to open. Default: the `redisConnectTimeoutMs` option. */
  connectTimeoutMs?: number;
}

/** What this replica knows of one target's shared state. */
interface Cached {
  state: CircuitState;
  /** Local-clock time at which an open circuit turns half-open. */
  openUntil: number;
  /** Probe slots this replica claimed in Redis and has not used yet, and when it last claimed one. */
  tokens: number;
  tokenAt: number;
  claiming: boolean;
  /** No new claim before this (after every slot was found taken). */
  claimAfter: number;
  usedAt: number;
}

/**
 * Circuit state shared by every replica through Redis. Outcomes are written atomically by a Lua
 * script; the availability check stays synchronous by reading a local cache of each target's state,
 * refreshed by every write's reply and by a poll (every `syncIntervalMs`) of the targets this
 * replica has seen. So sharing is eventual: another replica's trip is seen within about one sync
 * interval. When Redis is unreachable the store decides from this replica's own outcomes (a
 * MemoryStore that always records them) and logs a warning; requests never fail because of Redis.
 */
export class RedisStore implements BreakerStore {
  readonly #opts: BreakerOptions;
  readonly #now: Clock;
  readonly #logger: MiniLogger | undefined;
  readonly #onChange: ((change: StateChange) => void) | undefined;
  readonly #client: ScriptedRedis;
  readonly #local: MemoryStore;
  readonly #cache = new Map<string, Cached>();
  readonly #pending = new Set<Promise<unknown>>();
  readonly #timer: NodeJS.Timeout;
  readonly #ready: Promise<boolean>;
  readonly #bucketMs: number;
  readonly #url: string;
  #healthy = false;
  #syncing = false;
  #closed = false;
  #warnedAt = -Infinity;
  #degraded = false;

  constructor(opts: BreakerOptions, url: string, deps: RedisStoreDeps = {}) {
    this.#opts = opts;
    this.#url = url;
    this.#now = deps.now ?? (() => performance.now());
    this.#logger = deps.logger;
    this.#onChange = deps.onChange;
    this.#bucketMs = Math.max(1, Math.floor(opts.windowMs / WINDOW_BUCKETS));
    // The local fallback sees every outcome; its decisions (and so its state changes) only matter
    // while Redis is away.
    this.#local = new MemoryStore(opts, {
      now: this.#now,
      onChange: (change) => {
        if (!this.#healthy) this.#onChange?.(change);
      },
    });
    const client = new Redis(url, {
      lazyConnect: true,
      // Fail commands at once while disconnected (the local fallback decides) instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: deps.connectTimeoutMs ?? opts.redisConnectTimeoutMs,
      // Bounds the ready check too: a Redis that accepts and never answers cannot stall start-up.
      commandTimeout: opts.redisCommandTimeoutMs,
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
    }) as ScriptedRedis;
    client.defineCommand('waygateCbRecord', { numberOfKeys: 4, lua: RECORD });
    client.defineCommand('waygateCbClaim', { numberOfKeys: 3, lua: CLAIM });
    client.defineCommand('waygateCbGiveBack', { numberOfKeys: 1, lua: GIVE_BACK });
    client.on('ready', () => this.#onReady());
    client.on('error', (err: Error) => this.#unhealthy(err));
    client.on('close', () => this.#unhealthy(new Error('connection closed')));
    this.#client = client;
    this.#ready = client.connect().then(
      () => true,
      (err: Error) => {
        this.#unhealthy(err);
        return false;
      },
    );
    this.#timer = setInterval(() => void this.sync(), opts.syncIntervalMs);
    this.#timer.unref();
  }

  /** Resolves when the first connection attempt settled: true when Redis is in use. */
  ready(): Promise<boolean> {
    return this.#ready;
  }

  /** Whether decisions come from the shared state (else from this replica's own outcomes). */
  get healthy(): boolean {
    return this.#healthy;
  }

  admit(key: string): Admission {
    if (!this.#healthy) return this.#local.admit(key);
    const now = this.#now();
    const c = this.#cache.get(key);
    if (c === undefined) {
      this.#remember(key, now);
      return 'pass';
    }
    c.usedAt = now;
    if (c.state === 'closed') return 'pass';
    if (c.state === 'open' && now < c.openUntil) return 'deny';
    if (c.tokens > 0) {
      c.tokens--;
      return 'probe';
    }
    // Half-open and no slot in hand: claim one in Redis for a later request (this one is refused,
    // so that replicas together never send more than halfOpenProbes probes).
    this.#claim(key, c, now);
    return 'deny';
  }

  release(key: string): void {
    if (!this.#healthy) return this.#local.release(key);
    const c = this.#cache.get(key);
    if (c !== undefined && c.state !== 'closed' && c.tokens < this.#opts.halfOpenProbes) c.tokens++;
  }

  record(key: string, failed: boolean): void {
    this.#local.record(key, failed);
    if (!this.#healthy) return;
    const now = this.#now();
    const c = this.#cache.get(key) ?? this.#remember(key, now);
    c.usedAt = now;
    const o = this.#opts;
    const k = this.#keys(key);
    this.#track(
      this.#client
        .waygateCbRecord(
          k.open,
          k.tripped,
          k.stats,
          k.probes,
          failed ? 1 : 0,
          this.#bucketMs,
          WINDOW_BUCKETS,
          o.failureThreshold,
          o.errorRatio,
          o.minRequests,
          o.cooldownMs,
          RETAIN_MS,
        )
        .then(
          ([state, pttl, why]) => this.#apply(key, c, state, pttl, REASONS[why ?? 0] ?? REASONS[0]!),
          (err: Error) => this.#commandFailed(err),
        ),
    );
  }

  state(key: string): CircuitState {
    if (!this.#healthy) return this.#local.state(key);
    const c = this.#cache.get(key);
    if (c === undefined) return 'closed';
    if (c.state === 'open' && this.#now() >= c.openUntil) return 'half-open';
    return c.state;
  }

  /** Re-reads the shared state of every target this replica has seen (the poll). */
  async sync(): Promise<void> {
    if (!this.#healthy || this.#syncing || this.#cache.size === 0) return;
    this.#syncing = true;
    try {
      const now = this.#now();
      const keys: string[] = [];
      const givenBack = new Set<number>();
      const pipe = this.#client.pipeline();
      for (const [key, c] of this.#cache) {
        if (c.state === 'closed' && now - c.usedAt > IDLE_MS) {
          this.#cache.delete(key);
          continue;
        }
        const k = this.#keys(key);
        if (c.tokens > 0 && now - c.tokenAt >= this.#opts.syncIntervalMs) {
          // Slots claimed for traffic that did not come: give them back so other replicas can probe.
          givenBack.add(pipe.length);
          (pipe as unknown as ScriptedPipeline).waygateCbGiveBack(k.probes, c.tokens);
          c.tokens = 0;
        }
        pipe.pttl(k.open);
        pipe.exists(k.tripped);
        keys.push(key);
      }
      if (keys.length === 0) return;
      const all = await pipe.exec();
      if (!all) return;
      // The give-backs' replies are of no interest; the state replies come in pairs, in key order.
      const replies = all.length === keys.length * 2 ? all : all.filter((_, i) => !givenBack.has(i));
      for (let i = 0; i < keys.length; i++) {
        const [e1, pttl] = replies[2 * i]!;
        const [e2, tripped] = replies[2 * i + 1]!;
        if (e1 || e2) throw e1 ?? e2;
        const key = keys[i]!;
        const c = this.#cache.get(key);
        if (c === undefined) continue;
        const state = (pttl as number) > 0 ? 1 : (tripped as number) === 1 ? 2 : 0;
        this.#apply(key, c, state, pttl as number, 'seen in the shared state');
      }
    } catch (err) {
      this.#commandFailed(err as Error);
    } finally {
      this.#syncing = false;
    }
  }

  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.race([this.idle(), new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    this.#healthy = false;
    try {
      if (this.#client.status === 'ready') await this.#client.quit();
    } catch {
      /* closing anyway */
    }
    this.#client.disconnect();
    await this.#local.close();
  }

  #keys(key: string) {
    // One hash tag per target: its keys live in one slot, so the scripts also run on a cluster.
    const base = `${this.#opts.keyPrefix}{${key}}`;
    return { open: `${base}:open`, tripped: `${base}:tripped`, stats: `${base}:stats`, probes: `${base}:probes` };
  }

  #remember(key: string, now: number): Cached {
    const c: Cached = { state: 'closed', openUntil: 0, tokens: 0, tokenAt: 0, claiming: false, claimAfter: 0, usedAt: now };
    if (this.#cache.size >= this.#opts.maxTargets) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, c);
    return c;
  }

  /** Applies a state read from Redis: 0 closed, 1 open (pttl ms left), 2 half-open. */
  #apply(key: string, c: Cached, state: number, pttl: number, reason: string): void {
    const now = this.#now();
    const from: CircuitState = c.state === 'open' && now >= c.openUntil ? 'half-open' : c.state;
    let to: CircuitState;
    if (state === 1) {
      to = 'open';
      c.state = 'open';
      c.openUntil = now + pttl;
      c.tokens = 0;
    } else if (state === 2) {
      to = 'half-open';
      c.state = 'half-open';
    } else {
      to = 'closed';
      c.state = 'closed';
      c.tokens = 0;
    }
    if (from !== to) this.#onChange?.({ key, from, to, reason, shared: true });
  }

  #claim(key: string, c: Cached, now: number): void {
    if (c.claiming || now < c.claimAfter) return;
    c.claiming = true;
    const k = this.#keys(key);
    this.#track(
      this.#client.waygateCbClaim(k.open, k.tripped, k.probes, this.#opts.halfOpenProbes, this.#opts.probeTimeoutMs).then(
        ([state, arg]) => {
          c.claiming = false;
          if (state === 2) {
            this.#apply(key, c, 2, 0, 'the cooldown passed');
            if (arg === 1) {
              c.tokens = Math.min(this.#opts.halfOpenProbes, c.tokens + 1);
              c.tokenAt = this.#now();
            } else c.claimAfter = this.#now() + Math.min(250, this.#opts.syncIntervalMs);
          } else {
            this.#apply(key, c, state, arg, 'seen in the shared state');
          }
        },
        (err: Error) => {
          c.claiming = false;
          this.#commandFailed(err);
        },
      ),
    );
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #onReady(): void {
    this.#healthy = true;
    if (this.#degraded) {
      this.#degraded = false;
      this.#logger?.info({ redis: redactUrl(this.#url) }, 'circuit breaker: Redis is reachable again; circuit state is shared again');
    }
    void this.sync();
  }

  #unhealthy(err: Error): void {
    if (this.#closed) return;
    const wasHealthy = this.#healthy;
    this.#healthy = false;
    const now = Date.now();
    if (wasHealthy || !this.#degraded || now - this.#warnedAt >= WARN_EVERY_MS) {
      this.#degraded = true;
      this.#warnedAt = now;
      this.#logger?.warn(
        { redis: redactUrl(this.#url), err: err.message },
        "circuit breaker: Redis is unavailable; deciding from this replica's own outcomes until it is back",
      );
    }
  }

  #commandFailed(err: Error): void {
    if (this.#closed) return;
    if (this.#client.status !== 'ready') return this.#unhealthy(err);
    const now = Date.now();
    if (now - this.#warnedAt >= WARN_EVERY_MS) {
      this.#warnedAt = now;
      this.#logger?.warn({ redis: redactUrl(this.#url), err: err.message }, 'circuit breaker: a Redis command failed');
    }
  }
}

const REASONS = [
  'seen in the shared state',
  'consecutive failures reached failureThreshold',
  'the error ratio reached errorRatio',
  'a half-open probe failed',
  'a half-open probe succeeded',
];
