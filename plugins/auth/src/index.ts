import { z } from 'zod';
import { BeforeRequestStage, GatewayError, definePlugin, pluginManifest } from '@waygate/core';
import type { ConfigNode, PluginApi, RequestContext } from '@waygate/core';
import type { AuthStore } from './store.js';
import type { Invalidation } from './fanout.js';
import type { StaticKey, Verdict } from './directory.js';
import { KeyDirectory } from './directory.js';
import { Fanout } from './fanout.js';
import { adminHandler } from './admin.js';
import type { AdminExtension } from './admin.js';
import { principalOf, setPrincipal } from './principal.js';
import type { Principal } from './principal.js';
import { KeyCreateSchema, policyOf } from './records.js';
import { SHA256_RE, sameHash, sha256 } from './keys.js';
import { installGovernance } from './governance.js';
import { MemoryCounters, RedisCounters } from './ratelimit.js';
import { MemoryLedger, StoreLedger } from './spend.js';
import { PriceBook, PriceSchema } from './cost.js';
import { SqlStore } from './store.js';
import { StoreSpecSchema, acquireDatabase, fromEnv, resolveStoreSpec } from '@waygate/store';
import type { ResolvedStore } from '@waygate/store';

export { principalOf } from './principal.js';
export type { Principal } from './principal.js';
export type { AuthStore } from './store.js';
export { StoreUnavailable, SqlStore, SqliteStore, PostgresStore } from './store.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export type { KeyRecord, TeamRecord, RateLimit, Budget } from './records.js';
export type { SpendRow, SpendQuery, SpendGroup } from './store.js';
export type { AdminExtension } from './admin.js';
export { PriceBook } from './cost.js';
export type { Price } from './cost.js';
export { newKey, sha256, keyId } from './keys.js';

const hash = z.strictObject({ sha256: z.string().regex(SHA256_RE, 'a SHA-256 in lower-case hex (64 characters)') });

/** A key in the config file: a key's fields, with its SHA-256 instead of its text. */
const StaticKeySchema = KeyCreateSchema.omit({ expires_at: true }).extend({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" and "-", at most 64'),
  sha256: hash.shape.sha256,
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
});

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const OptionsSchema = z.strictObject({
  /**
   * The admin key: its text, `env:NAME`, or `{"sha256": "<hex>"}`. Default: $WAYGATE_ADMIN_KEY. With
   * one, gateway auth is on, the admin API is served under /admin, and the key store is opened.
   */
  adminKey: z.union([z.string().min(16, 'at least 16 characters'), hash]).optional(),
  /** Keys written in the config file, hashed: for small setups with no database. */
  keys: z.array(StaticKeySchema).default([]),
  /** Where keys, teams and spend live (`@waygate/store`): SQLite by default, PostgreSQL when `url` or $DATABASE_URL is set. */
  store: StoreSpecSchema.prefault({}),
  /** Redis for the revocation fan-out between replicas (then lookups are cached for `cacheTtlMs`). */
  redis: z.strictObject({ url: z.string().min(1), channel: z.string().min(1).default('waygate:auth:changes') }).optional(),
  /** How long a key lookup is served from memory. Default: 60000 with `redis`, else 0 (the store is asked on every request). */
  cacheTtlMs: z.number().int().min(0).optional(),
  /** When the store does not answer: refuse with a 503 (default), or accept keys seen within `lastKnownMs`. */
  whenStoreDown: z.enum(['refuse', 'last-known']).default('refuse'),
  lastKnownMs: z.number().int().positive().default(300_000),
  /**
   * Prices per model (a glob), in USD per million tokens, over the bundled table of
   * @pydantic/genai-prices: `{"gpt-4o*": {"input_per_mtok": 2.5, "output_per_mtok": 10}}`.
   */
  prices: z.record(z.string().min(1), PriceSchema).default({}),
  /** Rate-limit counters: in Redis (shared by replicas) when `redis` is set, under this key prefix. */
  rateLimits: z.strictObject({ prefix: z.string().min(1).default('waygate:rl:'), timeoutMs: z.number().int().positive().default(500) }).prefault({}),
});

export type Options = z.output<typeof OptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'policy');

/** Headers a caller may put a gateway key in, in the order they are read. */
const OWN_HEADERS = ['x-waygate-api-key', 'x-portkey-api-key'] as const;

/** The gateway key a request carries and the headers that hold it (withheld from the provider). */
export function presentedKey(ctx: RequestContext): { key: string; withhold: string[] } | undefined {
  const h = ctx.headers;
  const auth = h.authorization;
  const bearer = typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ' ? auth.slice(7).trim() : '';
  const apiKey = typeof h['x-api-key'] === 'string' ? h['x-api-key'].trim() : '';
  let key = '';
  const withhold: string[] = [];
  for (const name of OWN_HEADERS) {
    const v = h[name];
    // Then Authorization (or x-api-key) may carry the caller's own provider key: left as it is.
    if (typeof v === 'string' && v.trim()) {
      key = v.trim();
      withhold.push(name);
      break;
    }
  }
  key ||= bearer || apiKey;
  if (!key) return undefined;
  // Wherever else the client put the same key, it never goes upstream either.
  if (bearer === key) withhold.push('authorization');
  if (apiKey === key) withhold.push('x-api-key');
  return { key, withhold };
}

const unauthorized = (code: string, message: string) =>
  new GatewayError(code, 401, message, { type: 'authentication_error', headers: { 'www-authenticate': 'Bearer realm="waygate"' } });
const forbidden = (code: string, message: string, param?: string) => new GatewayError(code, 403, message, { type: 'permission_error', param });

/** Why a routing config names something this gateway lacks (an unknown provider), with its path; undefined if nothing. */
function configProblem(api: PluginApi, node: ConfigNode, where: string): string | undefined {
  if (node.provider !== undefined && !api.providers.has(node.provider)) return `${where}.provider: unknown provider ${JSON.stringify(node.provider)}`;
  for (let i = 0; i < (node.targets?.length ?? 0); i++) {
    const p = configProblem(api, node.targets![i]!, `${where}.targets[${i}]`);
    if (p) return p;
  }
  return undefined;
}

/**
 * Gateway authentication and virtual keys. Off (no tap at all) until an admin key
 * ($WAYGATE_ADMIN_KEY or `adminKey`) or static keys are configured; then every request must carry a
 * gateway key, checked at `BeforeRequestStage.AUTH`, and what the key allows is checked against the
 * route plan at `BeforeRequestStage.CONFIG`. With an admin key, the admin API is served under /admin
 * and keys live in a store (SQLite by default, PostgreSQL for replicas).
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  async setup(api, options) {
    const env = process.env;
    const adminText = typeof options.adminKey === 'string' ? fromEnv(options.adminKey, 'adminKey', env) : env.WAYGATE_ADMIN_KEY || undefined;
    if (adminText !== undefined && adminText.length < 16) throw new Error('the admin key must be at least 16 characters');
    const adminHash = typeof options.adminKey === 'object' ? options.adminKey.sha256 : adminText !== undefined ? sha256(adminText) : undefined;
    if (adminHash === undefined && options.keys.length === 0) return; // off: not configured
    // Other plugins' operator routes (/metrics) accept the admin key: `admin-auth` tells whether a presented text is it.
    if (adminHash !== undefined)
      api.registry<(presented: string) => boolean>('admin-auth').register('admin', (presented) => sameHash(sha256(presented), adminHash));

    let store: AuthStore | undefined;
    let fanout: Fanout | undefined;
    if (adminHash !== undefined) {
      // The database the key store uses, for plugins that keep their data beside it (the request log) when given no store of their own.
      api.registry<ResolvedStore>('stores').register('auth', resolveStoreSpec(options.store, env));
      store = await openStore(api, options, env);
    }
    const log = api.logger;
    const ttlMs = options.cacheTtlMs ?? (options.redis ? 60_000 : 0);
    const directory = new KeyDirectory(
      store,
      options.keys.map((k): StaticKey => ({
        ...policyOf(k),
        id: k.id,
        name: k.name,
        sha256: k.sha256,
        team: k.team ?? null,
        expires_at: k.expires_at ?? null,
      })),
      {
        ttlMs,
        whenDown: options.whenStoreDown,
        lastKnownMs: options.lastKnownMs,
        timeoutMs: options.store.timeoutMs,
        cacheTrusted: () => fanout?.ready ?? true,
      },
    );
    if (options.redis && store) {
      const f = new Fanout(
        fromEnv(options.redis.url, 'redis.url', env)!,
        options.redis.channel,
        { onMessage: (m) => directory.invalidate(m), onReady: () => directory.invalidate({ kind: 'all' }) },
        log,
      );
      fanout = f;
      api.onClose(() => f.close());
    }
    const ledger = store ? new StoreLedger(store, log) : new MemoryLedger();
    const counters = options.redis
      ? new RedisCounters(fromEnv(options.redis.url, 'redis.url', env)!, options.rateLimits.prefix, options.rateLimits.timeoutMs, log)
      : new MemoryCounters();
    api.onClose(async () => {
      await counters.close();
      // The spend not yet written goes to the store before it closes.
      await ledger.close();
      await store?.close();
    });
    if (store) {
      const s = store;
      // Other plugins' collections under /admin (the request log's /admin/logs), behind the same key.
      const adminRoutes = api.registry<AdminExtension>('admin-routes');
      const changed = async (m: Invalidation) => {
        directory.invalidate(m);
        await fanout?.publish(m).catch((err: Error) => log.warn({ err: err.message }, 'auth: could not tell the other replicas of a key change'));
      };
      api.register.route(
        '/admin',
        adminHandler({
          store: s,
          adminHash: adminHash!,
          changed,
          spendWritten: () => (ledger as StoreLedger).drain(),
          configProblem: (n, w) => configProblem(api, n, w),
          audit: (o, m) => log.info(o, m),
          reload: () => api.reload(),
          extensions: (name) => adminRoutes.get(name),
        }),
      );
    }

    api.hooks.beforeRequest.tapPromise(BeforeRequestStage.AUTH, (ctx) => {
      // A request a plugin makes on a client's behalf (an embeddings lookup) is the client's.
      if (ctx.madeBy !== undefined) return undefined;
      const presented = presentedKey(ctx);
      if (!presented) {
        throw unauthorized(
          'missing_api_key',
          'This gateway needs an API key: send Authorization: Bearer <key>, x-api-key: <key> or x-waygate-api-key: <key>',
        );
      }
      const verdict = directory.verify(presented.key);
      // A known key is decided at once, with no promise made for it.
      if (verdict instanceof Promise) return verdict.then((v) => admit(ctx, v, presented.withhold));
      admit(ctx, verdict, presented.withhold);
      return undefined;
    });

    /** Accepts the request as the verdict's principal, or throws the refusal. */
    function admit(ctx: RequestContext, verdict: Verdict, withhold: string[]): undefined {
      if ('unavailable' in verdict) {
        log.error({ err: verdict.unavailable.message }, 'auth: the key store did not answer; refusing the request');
        throw new GatewayError('auth_unavailable', 503, 'The gateway cannot check API keys right now (its key store does not answer); try again shortly', {
          retryable: true,
          headers: { 'retry-after': '1' },
        });
      }
      if ('refused' in verdict) {
        if (verdict.keyId) ctx.annotate('keyId', verdict.keyId);
        if (verdict.refused === 'revoked') throw unauthorized('key_revoked', `This API key (${verdict.keyId}) was revoked`);
        if (verdict.refused === 'expired') throw unauthorized('key_expired', `This API key (${verdict.keyId}) expired at ${verdict.at}`);
        throw unauthorized('invalid_api_key', 'Invalid API key: this gateway knows no such key');
      }
      const p = verdict.principal;
      ctx.annotate('keyId', p.keyId);
      ctx.annotate('keyName', p.name);
      if (p.team) ctx.annotate('team', p.team.id);
      if (Object.keys(p.metadata).length) ctx.annotate('keyMetadata', p.metadata);
      if (!p.allows('endpoints', ctx.endpoint)) throw forbidden('endpoint_not_allowed', `This API key may not use ${ctx.endpoint} (${ctx.path})`);
      if (ctx.model !== undefined && !allowsModel(p, ctx.model))
        throw forbidden('model_not_allowed', `This API key may not use model ${JSON.stringify(ctx.model)}`, 'model');
      setPrincipal(ctx, p);
      api.authorize(ctx, { withhold, config: p.config, metadata: Object.keys(p.metadata).length ? p.metadata : undefined });
      return undefined;
    }

    installGovernance(api, { counters, ledger, prices: new PriceBook(options.prices), whenStoreDown: options.whenStoreDown });

    // Once the config is resolved: every target the request could reach must be one the key allows.
    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => {
      const p = principalOf(ctx);
      // No config yet: a later CONFIG tap may route the request (a model catalogue, which holds it to the same rules), else the core's 400.
      if (!p?.restrictsTargets || ctx.madeBy !== undefined || !ctx.config) return undefined;
      for (const t of api.plan(ctx).targets) {
        if (!p.allows('providers', t.provider))
          throw forbidden('provider_not_allowed', `This API key may not use provider ${t.provider} (${t.path})`, t.path);
        const model = t.node.override_params?.model;
        if (typeof model === 'string' && !p.allows('models', model)) {
          throw forbidden('model_not_allowed', `This API key may not use model ${JSON.stringify(model)} (${t.path}.override_params.model)`, t.path);
        }
      }
      return undefined;
    });
  },
});

/**
 * A `provider/model` id (which a model catalogue routes) is allowed by its full name, or by its bare model when the
 * key also allows that provider; the targets it reaches are held to the key's rules again once the route is known.
 */
function allowsModel(p: Principal, model: string): boolean {
  if (p.allows('models', model)) return true;
  const slash = model.indexOf('/');
  return slash > 0 && p.allows('providers', model.slice(0, slash)) && p.allows('models', model.slice(slash + 1));
}

async function openStore(api: PluginApi, options: Options, env: NodeJS.ProcessEnv): Promise<AuthStore> {
  const spec = resolveStoreSpec(options.store, env);
  const lease = await acquireDatabase(spec, (err) => api.logger.warn({ err: err.message }, 'auth: a PostgreSQL connection failed'));
  const store = await SqlStore.over(lease.db, () => lease.release());
  api.logger.info(
    { store: spec.type, [spec.type === 'sqlite' ? 'file' : 'url']: lease.db.location, ...(spec.type === 'postgres' && { schema: spec.schema }) },
    'auth: key store ready',
  );
  return store;
}
