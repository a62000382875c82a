import { z } from 'zod';

export const DEFAULT_OPTIONS = Object.freeze({
  threshold: 0.95,
  store: 'memory' as const,
  keyPrefix: 'waygate:semcache:',
  maxEntries: 100_000,
  maxEntriesPerPartition: 10_000,
  maxBytes: 256 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  maxContextMessages: 4,
  maxContextChars: 8_000,
  maxPromptChars: 8_000,
  embeddingTimeoutMs: 10_000,
  redisCommandTimeoutMs: 1_000,
  redisConnectTimeoutMs: 2_000,
});

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const SemanticCacheOptionsSchema = z.strictObject({
  /**
   * The embeddings target: a routing-config leaf (`provider`, `api_key`, `custom_host`, provider
   * options) plus the `model` to ask for and optional `dimensions`. `api_key` may be `env:NAME`;
   * without one the gateway's `providers.<slug>.api_key` is used.
   */
  embedding: z.looseObject({
    provider: z.string().min(1),
    model: z.string().min(1),
    dimensions: z.number().int().positive().optional(),
    api_key: z.string().min(1).optional(),
    custom_host: z.string().min(1).optional(),
  }),
  /** Least cosine similarity for a hit; a config's `cache.threshold` overrides it per node. */
  threshold: z.number().gt(0).max(1).default(DEFAULT_OPTIONS.threshold),
  /** Where vectors and answers live: this process (`memory`) or Redis, shared by every replica. */
  store: z.enum(['memory', 'redis']).default(DEFAULT_OPTIONS.store),
  /** Redis URL for `store: "redis"`; default the REDIS_URL environment variable, else redis://127.0.0.1:6379. */
  redisUrl: z.string().min(1).optional(),
  keyPrefix: z.string().default(DEFAULT_OPTIONS.keyPrefix),
  /** Most entries held in memory (memory store), or vectors held in local copies (Redis store). */
  maxEntries: z.number().int().min(1).default(DEFAULT_OPTIONS.maxEntries),
  /** Most entries in one partition; past it the least recently used (memory) or oldest (Redis) go. */
  maxEntriesPerPartition: z.number().int().min(1).default(DEFAULT_OPTIONS.maxEntriesPerPartition),
  /** Most bytes of answers and vectors held in memory (memory store). */
  maxBytes: z.number().int().min(1024).default(DEFAULT_OPTIONS.maxBytes),
  /** Largest answer stored; a longer stream still reaches the client but is not stored. */
  maxEntryBytes: z.number().int().min(1).default(DEFAULT_OPTIONS.maxEntryBytes),
  /** Eligibility: most messages before the last user message (system prompt included). */
  maxContextMessages: z.number().int().min(0).default(DEFAULT_OPTIONS.maxContextMessages),
  /** Eligibility: most characters of text in those messages. */
  maxContextChars: z.number().int().min(0).default(DEFAULT_OPTIONS.maxContextChars),
  /** Eligibility: most characters in the compared prompt. */
  maxPromptChars: z.number().int().min(1).default(DEFAULT_OPTIONS.maxPromptChars),
  /** Time to first byte of the embeddings call, unless `embedding.request_timeout` says otherwise. */
  embeddingTimeoutMs: z.number().int().positive().default(DEFAULT_OPTIONS.embeddingTimeoutMs),
  redisCommandTimeoutMs: z.number().int().positive().default(DEFAULT_OPTIONS.redisCommandTimeoutMs),
  redisConnectTimeoutMs: z.number().int().positive().default(DEFAULT_OPTIONS.redisConnectTimeoutMs),
});

export type SemanticCacheOptions = z.output<typeof SemanticCacheOptionsSchema>;
export type SemanticCacheOptionsInput = z.input<typeof SemanticCacheOptionsSchema>;
