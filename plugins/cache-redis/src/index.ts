import { z } from 'zod';
import { definePlugin, pluginManifest, redactUrl } from '@waygate/core';
import { tapExactCache } from '@waygate/cache-engine';
import type { ExactCacheBackend } from '@waygate/cache-engine';
import { RedisCache } from './redis-cache.js';

export { RedisCache } from './redis-cache.js';
// Kept in this package's exports for its users; the one implementation is the core's.
export { redactUrl } from '@waygate/core';
export type { RedisCacheSettings, CacheLogger } from './redis-cache.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const RedisCacheOptionsSchema = z.strictObject({
  /** Redis URL; default the REDIS_URL environment variable, else redis://127.0.0.1:6379. */
  url: z.string().min(1).optional(),
  /** Prefix of every key this plugin writes. */
  keyPrefix: z.string().default('waygate:cache:'),
  /** Longest wait for one GET or SET; past it the lookup is a miss. */
  commandTimeoutMs: z.number().int().min(1).max(10_000).default(100),
  /** Longest wait for a connection to open. */
  connectTimeoutMs: z.number().int().min(1).max(60_000).default(1_000),
  /** Longest wait between reconnection attempts while Redis is away. */
  maxReconnectDelayMs: z.number().int().min(10).max(60_000).default(2_000),
  /** At most one "Redis is unavailable" warning per this long. */
  warnIntervalMs: z.number().int().min(0).default(60_000),
  /** Largest serialized entry written (and largest stream recorded). */
  maxEntryBytes: z
    .number()
    .int()
    .min(1)
    .default(4 * 1024 * 1024),
});
export type RedisCacheOptions = z.output<typeof RedisCacheOptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'cache');

export default definePlugin({
  manifest,
  configSchema: RedisCacheOptionsSchema,
  setup(api, options) {
    const url = options.url ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
    const logger = api.logger;
    const backend = new RedisCache({ ...options, url }, { logger });
    // Not replaceable: this is the `simple` cache whenever the config file loads it (the in-memory
    // default registered itself as replaceable and steps aside).
    api.registry<ExactCacheBackend>('caches').register('simple', backend);
    tapExactCache(api, backend, { maxEntryBytes: options.maxEntryBytes });
    api.onClose(() => backend.close());
    logger.info({ redis: redactUrl(url), keyPrefix: options.keyPrefix }, 'exact response cache in Redis');
  },
});
