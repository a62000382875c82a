import { z } from 'zod';
import { AfterResponseStage, definePlugin, pluginManifest } from '@waygate/core';
import type { GatewayResponse, RequestContext, SSEEvent } from '@waygate/core';
import { StoreSpecSchema, acquireDatabase, resolveStoreSpec } from '@waygate/store';
import type { ResolvedStore } from '@waygate/store';
import { CATEGORIES } from '@waygate/guardrail-pii';
import { watchStream } from '@waygate/provider-kit';
import type { AdminExtension } from '@waygate/auth';
import { LogStore } from './log-store.js';
import { MIGRATIONS, OWNER } from './migrations.js';
import { BodyRedactor, entryOf, eventText } from './record.js';
import { logsRoute } from './admin.js';

export { LogStore } from './log-store.js';
export type { LogQuery, Retention, WriterOptions } from './log-store.js';
export type { LogEntry } from './record.js';
export { MIGRATIONS } from './migrations.js';

const DAY_MS = 86_400_000;

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const OptionsSchema = z.strictObject({
  /**
   * `auto` (the default): on when @waygate/auth serves the admin API (an admin key is configured),
   * the only place the log can be read; `true`: always on; `false`: off.
   */
  enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Where the log lives (`@waygate/store`). Default: the auth plugin's key store when it has one, else SQLite in the data directory. */
  store: StoreSpecSchema.optional(),
  /** Request and answer bodies in the log, their texts redacted by the PII engine of @waygate/guardrail-pii. Off: metadata only. */
  bodies: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The PII categories masked (default: all). */
      categories: z.array(z.enum(CATEGORIES)).min(1).optional(),
      /** A body's JSON longer than this is cut (and flagged `truncated`). */
      maxBytes: z.number().int().min(256).max(1_048_576).default(32_768),
    })
    .prefault({}),
  /** What is kept: rows older than `maxAgeDays`, and beyond the newest `maxRows`, are deleted every `pruneEveryMs`. */
  retention: z
    .strictObject({
      maxAgeDays: z.number().positive().nullable().default(30),
      maxRows: z.number().int().positive().nullable().default(1_000_000),
      pruneEveryMs: z.number().int().min(10).default(60_000),
    })
    .prefault({}),
  /** How rows are written: `batchSize` per transaction, at most `flushMs` after the first waits; `maxQueued` held while the store is down. */
  batch: z
    .strictObject({
      batchSize: z.number().int().min(1).max(5000).default(500),
      flushMs: z.number().int().min(1).max(60_000).default(200),
      maxQueued: z.number().int().min(1).max(1_000_000).default(50_000),
      retryMs: z.number().int().min(1).max(600_000).default(1000),
    })
    .prefault({}),
});

export type Options = z.output<typeof OptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'observability');

/**
 * The request log: one row per client request (subrequests a plugin makes are not logged), written
 * off the request path in batches to `@waygate/store`, pruned in the background, and read at
 * `GET /admin/logs` (through @waygate/auth's admin API, behind the admin key).
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  async setup(api, options) {
    // @waygate/auth may set up after this plugin (listed in the config's plugins, after the bundled ones): then its entry tells.
    const authEntry = (api.config.plugins ?? []).find((p) => typeof p === 'object' && (p as { module?: unknown }).module === '@waygate/auth') as
      { options?: { adminKey?: unknown; store?: Parameters<typeof resolveStoreSpec>[0] } } | undefined;
    const isAdmin =
      api.registry<(presented: string) => boolean>('admin-auth').get('admin') !== undefined ||
      authEntry?.options?.adminKey !== undefined ||
      Boolean(process.env.WAYGATE_ADMIN_KEY);
    const enabled = options.enabled === 'auto' ? isAdmin : options.enabled;
    if (!enabled) return;
    const authStore = api.registry<ResolvedStore>('stores').get('auth');
    const spec = options.store !== undefined ? resolveStoreSpec(options.store) : (authStore ?? resolveStoreSpec(authEntry?.options?.store));
    const lease = await acquireDatabase(spec, (err) => api.logger.warn({ err: err.message }, 'request log: a PostgreSQL connection failed'));
    try {
      await lease.db.migrate(OWNER, MIGRATIONS);
    } catch (err) {
      await lease.release();
      throw err;
    }
    const store = new LogStore(lease.db, options.batch, api.logger);
    api.logger.info({ store: spec.type, where: lease.db.location, bodies: options.bodies.enabled }, 'request log: ready');
    if (!isAdmin) api.logger.warn('request log: on, but no admin key is configured: GET /admin/logs is not served');

    const retention = {
      maxAgeMs: options.retention.maxAgeDays === null ? undefined : options.retention.maxAgeDays * DAY_MS,
      maxRows: options.retention.maxRows ?? undefined,
    };
    let pruning: Promise<unknown> | undefined;
    const pruneTimer = setInterval(() => {
      pruning ??= store
        .prune(retention)
        .catch((err: Error) => api.logger.warn({ err: err.message }, 'request log: could not apply the retention limits; will retry'))
        .finally(() => (pruning = undefined));
    }, options.retention.pruneEveryMs).unref();
    api.onClose(async () => {
      clearInterval(pruneTimer);
      await pruning;
      await store.close();
      await lease.release();
    });

    api.registry<AdminExtension>('admin-routes').register(
      'logs',
      logsRoute(store, () => store.drain()),
    );

    const bodies = options.bodies.enabled ? new BodyRedactor(options.bodies.categories, options.bodies.maxBytes) : undefined;
    const record = (res: GatewayResponse, ctx: RequestContext, first: number | undefined, streamed?: { text: string; cut: boolean }) => {
      try {
        const e = entryOf(res, ctx, performance.now(), first);
        if (bodies) {
          e.request_body = bodies.request(ctx);
          e.response_body = streamed ? bodies.streamed(streamed.text, streamed.cut) : bodies.response(res);
        }
        store.push(e);
      } catch (err) {
        api.logger.warn({ err: (err as Error).message }, 'request log: could not make a row for a request');
      }
    };

    // At LOG, after the USAGE taps (@waygate/auth's cost), so a stream's wrapper here is outermost: it ends after theirs.
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res, ctx) => {
      if (ctx.madeBy !== undefined) return res;
      if (!res.stream) record(res, ctx, undefined);
      else res.stream = watch(res.stream, res, ctx, bodies ? bodies.maxBytes : 0, record);
      return res;
    });
  },
});

/**
 * Relays a stream and records the request when it ends, however it ends (done, failed, left by the
 * client), with the time its first event was relayed and, when bodies are kept, the text it carried.
 */
function watch(
  inner: AsyncIterable<SSEEvent>,
  res: GatewayResponse,
  ctx: RequestContext,
  maxText: number,
  record: (res: GatewayResponse, ctx: RequestContext, first: number | undefined, streamed?: { text: string; cut: boolean }) => void,
): AsyncIterable<SSEEvent> {
  let first: number | undefined;
  let text = '';
  let cut = false;
  return watchStream(inner, {
    event: (e) => {
      first ??= performance.now();
      if (maxText > 0 && !cut) {
        text += eventText(e);
        if (text.length > maxText) {
          text = text.slice(0, maxText);
          cut = true;
        }
      }
    },
    end: () => record(res, ctx, first, maxText > 0 ? { text, cut } : undefined),
  });
}
