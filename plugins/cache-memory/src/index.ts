import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { tapExactCache, encodeAnswer, decodeAnswer } from '@waygate/cache-engine';
import type { CachedAnswer, ExactCacheBackend } from '@waygate/cache-engine';
import { LruStore } from './lru.js';

export { LruStore } from './lru.js';
export type { LruOptions } from './lru.js';

export const DEFAULT_OPTIONS = Object.freeze({
  maxEntries: 10_000,
  maxBytes: 128 * 1024 * 1024,
  maxEntryBytes: 4 * 1024 * 1024,
});

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const MemoryCacheOptionsSchema = z.strictObject({
  /** Most entries held; the least recently used go first. */
  maxEntries: z.number().int().min(1).default(DEFAULT_OPTIONS.maxEntries),
  /** Most bytes held (UTF-8 length of keys and serialized entries). */
  maxBytes: z.number().int().min(1024).default(DEFAULT_OPTIONS.maxBytes),
  /** Largest single answer stored; a longer stream still reaches the client but is not recorded past this. */
  maxEntryBytes: z.number().int().min(1).default(DEFAULT_OPTIONS.maxEntryBytes),
});
export type MemoryCacheOptions = z.output<typeof MemoryCacheOptionsSchema>;

/**
 * The exact-cache backend in this process's memory. Entries are kept serialized (the same compact
 * text the Redis backend stores), so a stored answer cannot be changed by whoever handles the
 * response later, and its size is known exactly.
 */
export class MemoryCache implements ExactCacheBackend {
  readonly lru: LruStore;

  constructor(opts: Partial<MemoryCacheOptions> & { now?: () => number } = {}) {
    this.lru = new LruStore({
      maxEntries: opts.maxEntries ?? DEFAULT_OPTIONS.maxEntries,
      maxBytes: opts.maxBytes ?? DEFAULT_OPTIONS.maxBytes,
      now: opts.now,
    });
  }

  get(key: string): CachedAnswer | undefined {
    const text = this.lru.get(key);
    if (text === undefined) return undefined;
    const entry = decodeAnswer(text);
    if (!entry) this.lru.delete(key);
    return entry;
  }

  set(key: string, entry: CachedAnswer, ttlMs: number): void {
    this.lru.set(key, encodeAnswer(entry), ttlMs);
  }
}

const manifest = pluginManifest(import.meta.url, 'cache');

export default definePlugin({
  manifest,
  configSchema: MemoryCacheOptionsSchema,
  setup(api, options) {
    const backend = new MemoryCache(options);
    // The default `simple` backend: a cache plugin loaded from the config file (Redis) takes it over.
    api.registry<ExactCacheBackend>('caches').register('simple', backend, { replaceable: true });
    tapExactCache(api, backend, { maxEntryBytes: Math.min(options.maxEntryBytes, options.maxBytes) });
  },
});
