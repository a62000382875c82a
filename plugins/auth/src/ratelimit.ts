import { Redis } from 'ioredis';
import type { PluginApi } from '@waygate/core';

type Logger = PluginApi['logger'];

/**
 * Request and token counters per minute. A window is a fixed minute of the wall clock (UTC): simple
 * to make atomic across replicas, and what the reset headers count down to. A request is admitted
 * only when every bucket it belongs to (its key, its team, a per-model limit of either) has room
 * for one more request and for its token estimate; then, in the same step, each bucket counts the
 * request and reserves the estimate. When the answer's usage is known, the reservation is replaced
 * by the tokens used (`settle`).
 */

export const WINDOW_MS = 60_000;

export interface Bucket {
  /** e.g. `key:k7f3q9xa`, `team:red`, `key:k7f3q9xa:model:gpt-4o*`. */
  id: string;
  rpm?: number;
  tpm?: number;
}

/** What a bucket had left after an admission (or why one refused). */
export interface BucketState {
  bucket: Bucket;
  requests: number;
  tokens: number;
}

export type Admission =
  | { ok: true; window: number; states: BucketState[] }
  | { ok: false; window: number; states: BucketState[]; refusedBy: Bucket; what: 'requests' | 'tokens' };

export interface Counters {
  /** Checks and counts, atomically over all the buckets (at once when the counters are this process's own). */
  admit(buckets: readonly Bucket[], tokens: number, now: number): Admission | Promise<Admission>;
  /** Adds `delta` tokens (may be negative) to the buckets' counts in `window`. */
  settle(buckets: readonly Bucket[], window: number, delta: number): Promise<void>;
  close(): Promise<void>;
}

const windowOf = (now: number) => Math.floor(now / WINDOW_MS);

/** Which bucket refuses: the first with no room for one more request, else for the tokens. */
function refusal(b: Bucket, requests: number, tokens: number, want: number): 'requests' | 'tokens' | undefined {
  if (b.rpm !== undefined && requests + 1 > b.rpm) return 'requests';
  // An estimate beyond the whole allowance can never fit: it is refused like one that does not fit now.
  if (b.tpm !== undefined && tokens + want > b.tpm) return 'tokens';
  return undefined;
}

/** Counters in this process's memory: one replica. */
export class MemoryCounters implements Counters {
  #counts = new Map<string, { window: number; requests: number; tokens: number }>();

  #get(id: string, window: number) {
    let c = this.#counts.get(id);
    if (!c || c.window !== window) {
      c = { window, requests: 0, tokens: 0 };
      this.#counts.set(id, c);
    }
    return c;
  }

  admit(buckets: readonly Bucket[], tokens: number, now: number): Admission {
    const window = windowOf(now);
    if (this.#counts.size > 10_000) for (const [k, c] of this.#counts) if (c.window < window) this.#counts.delete(k);
    const counts = buckets.map((b) => this.#get(b.id, window));
    for (let i = 0; i < buckets.length; i++) {
      const what = refusal(buckets[i]!, counts[i]!.requests, counts[i]!.tokens, tokens);
      if (what) return { ok: false, window, states: states(buckets, counts), refusedBy: buckets[i]!, what };
    }
    for (const c of counts) {
      c.requests += 1;
      c.tokens += tokens;
    }
    return { ok: true, window, states: states(buckets, counts) };
  }

  async settle(buckets: readonly Bucket[], window: number, delta: number): Promise<void> {
    for (const b of buckets) {
      const c = this.#counts.get(b.id);
      if (c && c.window === window) c.tokens = Math.max(0, c.tokens + delta);
    }
  }

  async close(): Promise<void> {}
}

function states(buckets: readonly Bucket[], counts: readonly { requests: number; tokens: number }[]): BucketState[] {
  return buckets.map((bucket, i) => ({ bucket, requests: counts[i]!.requests, tokens: counts[i]!.tokens }));
}

/**
 * KEYS: one hash per bucket and window (fields r and t). ARGV: the token estimate, the keys' TTL in
 * ms, then each bucket's rpm and tpm (-1: none). Checks every bucket, then counts in all of them; a
 * Lua script runs alone on the server, so replicas together admit at most each limit. Returns
 * [0 | refusing bucket's 1-based index, 0 | 1 (requests) | 2 (tokens), r1, t1, r2, t2, ...].
 */
const ADMIT = `
local want = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local counts = {}
local refused, what = 0, 0
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'r', 't')
  local r, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  counts[#counts + 1] = r
  counts[#counts + 1] = t
  local rpm, tpm = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  if refused == 0 then
    if rpm >= 0 and r + 1 > rpm then refused, what = i, 1
    elseif tpm >= 0 and t + want > tpm then refused, what = i, 2 end
  end
end
if refused == 0 then
  for i, key in ipairs(KEYS) do
    counts[2 * i - 1] = redis.call('HINCRBY', key, 'r', 1)
    counts[2 * i] = redis.call('HINCRBY', key, 't', want)
    redis.call('PEXPIRE', key, ttl)
  end
end
local out = {refused, what}
for _, c in ipairs(counts) do out[#out + 1] = c end
return out
`;

/** Counters in Redis: shared by every replica that uses the same Redis and prefix. */
export class RedisCounters implements Counters {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #fallback = new MemoryCounters();
  readonly #log: Logger;
  #warned = false;
  /** Until the first connection is made (or fails within the timeout), requests wait for it rather than count alone. */
  #first: Promise<void> | undefined;

  constructor(url: string, prefix: string, timeoutMs: number, log: Logger) {
    this.#redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: timeoutMs });
    this.#redis.on('error', () => {}); // reported where a command fails
    this.#first = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref();
      this.#redis.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    }).then(() => {
      this.#first = undefined;
    });
    this.#redis.defineCommand('waygateAdmit', { lua: ADMIT });
    this.#prefix = prefix;
    this.#log = log;
  }

  #keys(buckets: readonly Bucket[], window: number): string[] {
    return buckets.map((b) => `${this.#prefix}${b.id}:${window}`);
  }

  /** Redis unreachable: this replica counts alone (its limits then hold per replica) and says so once per outage. */
  #down(err: Error): void {
    if (!this.#warned) this.#log.warn({ err: err.message }, 'limits: Redis does not answer; counting rate limits in this process only');
    this.#warned = true;
  }

  async admit(buckets: readonly Bucket[], tokens: number, now: number): Promise<Admission> {
    const window = windowOf(now);
    if (!buckets.length) return { ok: true, window, states: [] };
    const args: (string | number)[] = [tokens, WINDOW_MS * 2];
    for (const b of buckets) args.push(b.rpm ?? -1, b.tpm ?? -1);
    let out: number[];
    if (this.#first) await this.#first;
    try {
      out = await (this.#redis as unknown as { waygateAdmit(n: number, ...a: (string | number)[]): Promise<number[]> }).waygateAdmit(
        buckets.length,
        ...this.#keys(buckets, window),
        ...args,
      );
      this.#warned = false;
    } catch (err) {
      this.#down(err as Error);
      return this.#fallback.admit(buckets, tokens, now);
    }
    const counts = buckets.map((_, i) => ({ requests: Number(out[2 + 2 * i]), tokens: Number(out[3 + 2 * i]) }));
    const refused = Number(out[0]);
    if (refused === 0) return { ok: true, window, states: states(buckets, counts) };
    return { ok: false, window, states: states(buckets, counts), refusedBy: buckets[refused - 1]!, what: Number(out[1]) === 1 ? 'requests' : 'tokens' };
  }

  async settle(buckets: readonly Bucket[], window: number, delta: number): Promise<void> {
    if (!buckets.length || delta === 0) return;
    const multi = this.#redis.multi();
    for (const key of this.#keys(buckets, window)) multi.hincrby(key, 't', delta);
    await multi.exec().catch((err: Error) => this.#down(err));
    await this.#fallback.settle(buckets, window, delta);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** OpenAI's reset format: `1s`, `6m0s`, `20ms`. */
export function resetText(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/**
 * The x-ratelimit-* headers from the tightest bucket of each kind (the one with the least room
 * left), after this request was counted.
 */
export function rateLimitHeaders(states: readonly BucketState[], window: number, now: number): Record<string, string> {
  const h: Record<string, string> = {};
  const reset = resetText((window + 1) * WINDOW_MS - now);
  let req: { limit: number; left: number } | undefined;
  let tok: { limit: number; left: number } | undefined;
  for (const s of states) {
    if (s.bucket.rpm !== undefined) {
      const left = Math.max(0, s.bucket.rpm - s.requests);
      if (!req || left < req.left) req = { limit: s.bucket.rpm, left };
    }
    if (s.bucket.tpm !== undefined) {
      const left = Math.max(0, s.bucket.tpm - s.tokens);
      if (!tok || left < tok.left) tok = { limit: s.bucket.tpm, left };
    }
  }
  if (req) {
    h['x-ratelimit-limit-requests'] = String(req.limit);
    h['x-ratelimit-remaining-requests'] = String(req.left);
    h['x-ratelimit-reset-requests'] = reset;
  }
  if (tok) {
    h['x-ratelimit-limit-tokens'] = String(tok.limit);
    h['x-ratelimit-remaining-tokens'] = String(tok.left);
    h['x-ratelimit-reset-tokens'] = reset;
  }
  return h;
}
