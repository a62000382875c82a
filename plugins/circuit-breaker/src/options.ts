import { z } from 'zod';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const BreakerOptionsSchema = z.strictObject({
  /** Consecutive counted failures that open a closed circuit. */
  failureThreshold: z.number().int().min(1).default(5),
  /** Share of counted failures among the requests of the last `windowMs` that opens it (with `minRequests`). */
  errorRatio: z.number().min(0).max(1).default(0.5),
  /** The sliding window (10 buckets) the error ratio is measured over. */
  windowMs: z.number().int().min(10).default(30_000),
  /** The ratio rule needs at least this many requests in the window. */
  minRequests: z.number().int().min(1).default(10),
  /** How long an open circuit refuses a target before it lets probes through (half-open). */
  cooldownMs: z.number().int().min(1).default(30_000),
  /** Requests let through at a time while half-open. */
  halfOpenProbes: z.number().int().min(1).default(1),
  /** A probe that reports no outcome within this long no longer holds its slot (a lost request). */
  probeTimeoutMs: z.number().int().min(1).default(60_000),
  /** Where the state lives: this process (`memory`) or shared by every replica through Redis (`redis`). */
  store: z.enum(['memory', 'redis']).default('memory'),
  /** Redis URL for `store: "redis"`; default env REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl: z.string().min(1).optional(),
  /** Prefix of every Redis key this plugin writes. */
  keyPrefix: z.string().default('waygate:cb:'),
  /** Longest wait for a connection to Redis to open (`redis` store). */
  redisConnectTimeoutMs: z.number().int().positive().default(2_000),
  /**
   * Longest wait for one Redis command, the ready check of a new connection included: a Redis that
   * accepts connections and never answers costs start-up at most this long (then the replica decides
   * locally until Redis answers).
   */
  redisCommandTimeoutMs: z.number().int().positive().default(1_000),
  /** How often a replica re-reads the shared state of the targets it has seen (`redis` store). */
  syncIntervalMs: z.number().int().min(10).default(1_000),
  /** Targets whose state is kept in memory (the least recently used is dropped past this). */
  maxTargets: z.number().int().min(1).default(10_000),
});

export type BreakerOptions = z.output<typeof BreakerOptionsSchema>;
export type BreakerOptionsInput = z.input<typeof BreakerOptionsSchema>;

/** All options with their defaults, for code that builds a breaker without the plugin loader. */
export function breakerOptions(input: BreakerOptionsInput = {}): BreakerOptions {
  return BreakerOptionsSchema.parse(input);
}
