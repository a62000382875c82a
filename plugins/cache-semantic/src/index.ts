import { AfterResponseStage, BeforeRequestStage, ConfigNodeSchema, ErrorCode, badRequest, definePlugin, pluginManifest, redactUrl } from '@waygate/core';
import type { GatewayResponse, PlannedTarget, PluginApi, RequestContext, Target } from '@waygate/core';
import {
  cachePolicy,
  cacheableEndpoint,
  canReplay,
  configUsesCache,
  decodeAnswer,
  encodeAnswer,
  exactKey,
  forceRefresh,
  recordAnswer,
  replay,
  setCacheStatus,
  storable,
} from '@waygate/cache-engine';
import type { CachePolicy, CachedAnswer, ExactCacheBackend } from '@waygate/cache-engine';
import { SemanticCacheOptionsSchema } from './options.js';
import type { SemanticCacheOptions } from './options.js';
import { Embedder, isSubRequest } from './embedder.js';
import type { EmbeddingTarget } from './embedder.js';
import { MemorySemanticStore } from './memory-store.js';
import { RedisSemanticStore } from './redis-store.js';
import type { MiniLogger } from './redis-store.js';
import type { SemanticStore } from './store.js';
import { overridesPrompt, partitionKey, semanticPrompt, textHash } from './prompt.js';
import type { EligibilityLimits } from './prompt.js';

export { SemanticCacheOptionsSchema, DEFAULT_OPTIONS } from './options.js';
export type { SemanticCacheOptions, SemanticCacheOptionsInput } from './options.js';
export { VectorIndex, normalize, dot } from './vector-index.js';
export type { Match } from './vector-index.js';
export { MemorySemanticStore } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { RedisSemanticStore } from './redis-store.js';
// Kept in this package's exports for its users; the one implementation is the core's.
export { redactUrl } from '@waygate/core';
export type { RedisStoreOptions, MiniLogger } from './redis-store.js';
export type { SemanticStore } from './store.js';
export { Embedder, EmbeddingError, SUB_REQUEST, isSubRequest, vectorOf } from './embedder.js';
export type { EmbeddingTarget } from './embedder.js';
export { semanticPrompt, partitionKey, textHash, textOf, overridesPrompt, SEMANTIC_ENDPOINTS, PROMPT_KEYS } from './prompt.js';
export type { EligibilityLimits, SemanticPrompt } from './prompt.js';

const manifest = pluginManifest(import.meta.url, 'cache');

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Response header with the similarity of the prompt that answered (on SEMANTIC HIT and HIT). */
export const SIMILARITY_HEADER = 'x-waygate-cache-similarity';
/** At most one warning about failing embeddings calls per this long. */
const WARN_EVERY_MS = 60_000;
/** How many stale nearest entries (answer gone or too old) a lookup skips per partition before giving up. */
const MAX_STALE_SKIPS = 3;

/** One planned target the semantic cache looks up. */
interface Candidate {
  target: PlannedTarget;
  index: number;
  policy: CachePolicy;
  threshold: number;
  /** Semantic mode: the partition; exact fallback: the exact key. */
  key: string;
}

/** Per-request state, in the plugin's request slot. */
interface RequestState {
  /** `semantic`: looked up by meaning; `exact`: not eligible, cached exactly by the `simple` backend; `off`: not cached. */
  mode: 'semantic' | 'exact' | 'off';
  hit: boolean;
  keys: Map<Target, string>;
  text?: string;
  textHash?: string;
  vector?: Float32Array;
  /** The embeddings call failed during the lookup: the answer is not stored either. */
  embedFailed?: boolean;
}

/** What the plugin registers as the `semantic` cache (tests and other plugins reach it through the `caches` registry). */
export interface SemanticCacheHandle {
  readonly store: SemanticStore;
  readonly embedder: Embedder;
  readonly options: SemanticCacheOptions;
  /** Resolves when the stores started so far have finished (tests). */
  idle(): Promise<void>;
}

/** Resolves `env:NAME` in the embedding target's api_key (the loader resolves it only in `providers` and `routing`). */
function resolveEnv(target: EmbeddingTarget, env: NodeJS.ProcessEnv): EmbeddingTarget {
  const key = target.api_key;
  if (typeof key !== 'string' || !key.startsWith('env:')) return target;
  const name = key.slice(4);
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`options.embedding.api_key names environment variable ${name}, which is not set`);
  return { ...target, api_key: value };
}

/** Checks the embedding target at start-up, so a typo stops the gateway instead of making every lookup a miss. */
function checkEmbeddingTarget(api: PluginApi, target: EmbeddingTarget): void {
  const { model: _model, dimensions: _dims, ...node } = target;
  const parsed = ConfigNodeSchema.safeParse(node);
  if (!parsed.success) throw new Error(`options.embedding is not a valid routing-config leaf: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  if (node.targets !== undefined) throw new Error('options.embedding must be one target (a leaf with "provider"), not a node with "targets"');
  const adapter = api.providers.get(target.provider);
  if (!adapter) {
    throw new Error(
      `options.embedding.provider ${JSON.stringify(target.provider)} is not loaded (loaded: ${api.providers.ids().sort().join(', ') || 'none'}); list its provider plugin before this one`,
    );
  }
  if (!api.endpoints.adapterFor(adapter, 'embeddings')) {
    throw new Error(`options.embedding.provider ${JSON.stringify(target.provider)} has no embeddings endpoint`);
  }
}

export default definePlugin({
  manifest,
  configSchema: SemanticCacheOptionsSchema,
  async setup(api, options) {
    const logger = api.logger;
    const target = resolveEnv(options.embedding as EmbeddingTarget, process.env);
    checkEmbeddingTarget(api, target);
    const embedder = new Embedder(api, target, { timeoutMs: options.embeddingTimeoutMs });
    const caches = api.registry<unknown>('caches');
    const slot = api.requestState<RequestState>();
    const limits: EligibilityLimits = {
      maxContextMessages: options.maxContextMessages,
      maxContextChars: options.maxContextChars,
      maxPromptChars: options.maxPromptChars,
    };

    let store: SemanticStore;
    if (options.store === 'redis') {
      const url = options.redisUrl ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
      const redis = new RedisSemanticStore({
        url,
        keyPrefix: options.keyPrefix,
        maxEntriesPerPartition: options.maxEntriesPerPartition,
        maxLocalEntries: options.maxEntries,
        commandTimeoutMs: options.redisCommandTimeoutMs,
        connectTimeoutMs: options.redisConnectTimeoutMs,
        logger: logger as MiniLogger,
      });
      store = redis;
      if (await redis.ready()) logger.info({ redis: redactUrl(url) }, 'semantic cache: vectors and answers are shared through Redis');
    } else {
      const memory = new MemorySemanticStore({
        maxEntries: options.maxEntries,
        maxEntriesPerPartition: options.maxEntriesPerPartition,
        maxBytes: options.maxBytes,
      });
      store = memory;
      const sweep = setInterval(() => memory.sweep(), 60_000);
      sweep.unref();
      api.onClose(() => clearInterval(sweep));
    }
    api.onClose(() => store.close());

    const pending = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      pending.add(p);
      void p.finally(() => pending.delete(p));
    };
    const handle: SemanticCacheHandle = {
      store,
      embedder,
      options,
      async idle() {
        while (pending.size) await Promise.allSettled([...pending]);
      },
    };
    caches.register('semantic', handle);

    let warnedAt = -Infinity;
    let suppressed = 0;
    const embedFailed = (err: unknown) => {
      const now = performance.now();
      if (now - warnedAt < WARN_EVERY_MS) {
        suppressed++;
        return;
      }
      logger.warn(
        { err: (err as Error).message, ...(suppressed ? { suppressed } : {}) },
        'semantic cache: the embeddings call failed; the request goes to the model uncached',
      );
      warnedAt = now;
      suppressed = 0;
    };

    // The exact-cache backend (`simple`, from @waygate/cache-memory or @waygate/cache-redis), for
    // requests that are not eligible for semantic matching. Looked up once the kernel is sealed.
    let exact: ExactCacheBackend | undefined | null = null;
    const exactBackend = (): ExactCacheBackend | undefined => {
      if (exact !== null) return exact;
      const found = caches.get('simple') as ExactCacheBackend | undefined;
      if (api.sealed) exact = found;
      return found;
    };

    api.addConfigCheck((node, path) => {
      const c = node.cache as { mode?: unknown; threshold?: unknown } | undefined;
      if (!c || c.threshold === undefined) return;
      const t = c.threshold;
      if (typeof t !== 'number' || !(t > 0 && t <= 1)) {
        throw badRequest(
          ErrorCode.INVALID_CONFIG,
          `${path}.cache.threshold must be a number above 0 and at most 1 (got ${JSON.stringify(t)})`,
          `${path}.cache.threshold`,
        );
      }
      if (c.mode !== 'semantic') {
        throw badRequest(ErrorCode.INVALID_CONFIG, `${path}.cache.threshold applies only to "mode": "semantic"`, `${path}.cache.threshold`);
      }
    });

    /** A stored answer for a candidate, if it can still serve this request; stale entries are dropped. */
    const answerFor = async (ctx: RequestContext, c: Candidate, id: string): Promise<{ entry?: CachedAnswer; unusable?: boolean }> => {
      const text = await store.answer(c.key, id);
      if (text === null) return { unusable: true };
      const entry = text === undefined ? undefined : decodeAnswer(text);
      if (!entry || Date.now() - entry.storedAt > c.policy.maxAgeMs) {
        store.remove(c.key, id);
        return {};
      }
      if (!canReplay(ctx, entry, api.endpointOf(ctx))) return { unusable: true };
      return { entry };
    };

    const hit = (ctx: RequestContext, state: RequestState, c: Candidate, entry: CachedAnswer, status: 'HIT' | 'SEMANTIC HIT', score: number) => {
      state.hit = true;
      ctx.attributeTo(c.target, c.index);
      setCacheStatus(ctx, status);
      ctx.responseHeaders[SIMILARITY_HEADER] = score >= 1 ? '1' : score.toFixed(4);
      ctx.annotate('cache_similarity', Math.round(score * 10_000) / 10_000);
      return replay(ctx, entry, api.endpointOf(ctx));
    };

    api.hooks.beforeRequest.tapPromise(BeforeRequestStage.CACHE_LOOKUP, async (ctx) => {
      if (isSubRequest(ctx) || !cacheableEndpoint(ctx.endpoint) || !configUsesCache(ctx.config)) return undefined;
      const plan = api.plan(ctx);
      const candidates: Candidate[] = [];
      for (let i = 0; i < plan.targets.length; i++) {
        const t = plan.targets[i]!;
        const policy = cachePolicy(t);
        if (policy?.mode !== 'semantic') continue;
        const own = (t.node.cache as { threshold?: unknown } | undefined)?.threshold;
        candidates.push({ target: t, index: i, policy, threshold: typeof own === 'number' ? own : options.threshold, key: '' });
      }
      if (candidates.length === 0) return undefined;
      const state: RequestState = { mode: 'off', hit: false, keys: new Map() };
      slot.set(ctx, state);

      const prompt = semanticPrompt(ctx.endpoint, ctx.body, limits);
      let reason = prompt.eligible ? undefined : prompt.reason;
      if (reason === undefined && candidates.some((c) => overridesPrompt(c.target))) reason = 'override_params replace the prompt';

      if (reason !== undefined || !prompt.eligible) {
        // Not eligible for matching by meaning: cached exactly, when an exact backend is loaded.
        ctx.annotate('cache_semantic_skipped', reason);
        const backend = exactBackend();
        if (!backend) {
          setCacheStatus(ctx, 'DISABLED');
          return undefined;
        }
        state.mode = 'exact';
        for (const c of candidates) state.keys.set(c.target, (c.key = exactKey(ctx, c.target)));
        if (forceRefresh(ctx)) {
          setCacheStatus(ctx, 'REFRESH');
          return undefined;
        }
        for (const c of candidates) {
          let entry: CachedAnswer | undefined;
          try {
            entry = await backend.get(c.key);
          } catch {
            entry = undefined;
          }
          if (!entry || Date.now() - entry.storedAt > c.policy.maxAgeMs || !canReplay(ctx, entry, api.endpointOf(ctx))) continue;
          state.hit = true;
          ctx.attributeTo(c.target, c.index);
          setCacheStatus(ctx, 'HIT');
          return replay(ctx, entry, api.endpointOf(ctx));
        }
        setCacheStatus(ctx, 'MISS');
        return undefined;
      }

      state.mode = 'semantic';
      state.text = prompt.text;
      state.textHash = textHash(prompt.text);
      for (const c of candidates) state.keys.set(c.target, (c.key = partitionKey(ctx, c.target, prompt.rest, embedder.id)));
      if (forceRefresh(ctx)) {
        setCacheStatus(ctx, 'REFRESH');
        return undefined;
      }
      await store.sync(candidates.map((c) => c.key));

      // The identical prompt first: no embeddings call needed.
      for (const c of candidates) {
        const id = store.byText(c.key, state.textHash, Date.now());
        if (id === undefined) continue;
        const found = await answerFor(ctx, c, id);
        if (found.entry) {
          store.touch(c.key, id);
          return hit(ctx, state, c, found.entry, 'HIT', 1);
        }
      }

      try {
        state.vector = await embedder.embed(prompt.text, state.textHash, ctx);
      } catch (err) {
        state.embedFailed = true;
        if (!ctx.aborted) embedFailed(err);
        setCacheStatus(ctx, 'SEMANTIC MISS');
        return undefined;
      }
      for (const c of candidates) {
        for (let skip = 0; skip <= MAX_STALE_SKIPS; skip++) {
          const match = store.nearest(c.key, state.vector, c.threshold, Date.now());
          if (!match) break;
          const found = await answerFor(ctx, c, match.id);
          if (found.entry) {
            store.touch(c.key, match.id);
            return hit(ctx, state, c, found.entry, 'SEMANTIC HIT', match.score);
          }
          if (found.unusable) break;
        }
      }
      setCacheStatus(ctx, 'SEMANTIC MISS');
      return undefined;
    });

    api.hooks.afterResponse.tap(AfterResponseStage.CACHE_STORE, (res: GatewayResponse, ctx) => {
      const state = slot.get(ctx);
      if (!state || state.hit || state.mode === 'off' || !storable(res)) return res;
      const target = ctx.target;
      if (!target) return res;
      const policy = cachePolicy(target);
      const key = state.keys.get(target);
      if (policy?.mode !== 'semantic' || key === undefined) return res;
      const ttl = policy.maxAgeMs;
      if (state.mode === 'exact') {
        const backend = exactBackend();
        if (!backend) return res;
        return recordAnswer(
          ctx,
          res,
          (entry) => {
            const done = backend.set(key, entry, ttl);
            if (done) track(done.catch(() => undefined));
          },
          { maxBytes: options.maxEntryBytes, definition: api.endpointOf(ctx) },
        );
      }
      if (state.embedFailed) return res;
      const text = state.text!;
      const hash = state.textHash!;
      const known = state.vector;
      return recordAnswer(
        ctx,
        res,
        (entry) => {
          const encoded = encodeAnswer(entry);
          if (encoded.length > options.maxEntryBytes) return;
          track(
            (async () => {
              let vector = known;
              if (!vector) {
                // A forced refresh skipped the lookup: embed now, after the client has its answer.
                try {
                  vector = await embedder.embed(text, hash);
                } catch (err) {
                  embedFailed(err);
                  return;
                }
              }
              await store.add(key, vector, hash, encoded, ttl);
            })(),
          );
        },
        { maxBytes: options.maxEntryBytes, definition: api.endpointOf(ctx) },
      );
    });
  },
});
