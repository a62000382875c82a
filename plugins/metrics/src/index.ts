import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AfterResponseStage, BeforeRequestStage, OnErrorStage, definePlugin, pluginManifest } from '@waygate/core';
import type { GatewayError, GatewayResponse, RequestContext } from '@waygate/core';

/** The plugin's options, parsed once at start-up. */
export const OptionsSchema = z.strictObject({
  /** The path the metrics are served at. */
  path: z
    .string()
    .regex(/^\/[a-z0-9/_-]*$/, 'must be a path')
    .default('/metrics'),
  /** A bearer token for scrapes, apart from the admin key. Default: $WAYGATE_METRICS_TOKEN. */
  token: z.string().min(16, 'at least 16 characters').optional(),
  /** How many distinct models get their own label value; the rest are `other`. */
  maxModels: z.number().int().min(1).max(1000).default(50),
});

export type Options = z.output<typeof OptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'observability');

/** A label set that keeps the first `max` values it sees and calls the rest `other`. */
export class CappedLabel {
  readonly #seen = new Set<string>();
  constructor(readonly max: number) {}
  of(value: string | undefined): string {
    if (value === undefined || value === '') return 'unknown';
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return 'other';
    this.#seen.add(value);
    return value;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Is the bearer token one of the accepted ones (compared by hash, in constant time), or the admin key
 * that `@waygate/auth` holds (its `admin-auth` registry)? Open only when neither is configured.
 */
function authorised(header: string | undefined, accepted: readonly Buffer[], isAdmin: ((presented: string) => boolean) | undefined): boolean {
  if (accepted.length === 0 && !isAdmin) return true;
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const presented = m[1]!.trim();
  if (isAdmin?.(presented)) return true;
  const h = sha256(presented);
  return accepted.some((a) => timingSafeEqual(a, h));
}

/** The gateway's Prometheus metrics, in a registry of their own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly models: CappedLabel;
  readonly requests: Counter<'endpoint' | 'provider' | 'model' | 'status' | 'outcome'>;
  readonly duration: Histogram<'endpoint'>;
  readonly tokens: Counter<'provider' | 'model' | 'kind'>;
  readonly attemptErrors: Counter<'provider' | 'status'>;
  readonly inFlight: Gauge<'endpoint'>;

  constructor(maxModels = 50) {
    this.models = new CappedLabel(maxModels);
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'waygate_requests_total',
      help: 'Requests answered, by endpoint, provider, model, status and outcome',
      labelNames: ['endpoint', 'provider', 'model', 'status', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'waygate_request_duration_seconds',
      help: 'Total time from request to answer headers',
      labelNames: ['endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.tokens = new Counter({
      name: 'waygate_tokens_total',
      help: 'Tokens reported by upstreams',
      labelNames: ['provider', 'model', 'kind'],
      registers,
    });
    this.attemptErrors = new Counter({
      name: 'waygate_upstream_errors_total',
      help: 'Failed upstream attempts (each retry and fallback is one)',
      labelNames: ['provider', 'status'],
      registers,
    });
    this.inFlight = new Gauge({ name: 'waygate_requests_in_flight', help: 'Requests being handled', labelNames: ['endpoint'], registers });
  }

  /** The outcome of an answered request, from what the context and the answer say. */
  static outcome(res: GatewayResponse, ctx: RequestContext): string {
    if (res.source === 'cache') return 'cached';
    if (res.status === 401 || res.status === 403) return 'denied';
    if (res.status === 429) return 'rate_limited';
    if (res.status === 446 || res.source === 'guardrail') return 'guardrail_denied';
    if (res.status >= 400) return 'error';
    if (ctx.targetIndex > 0) return 'fell_back';
    if (ctx.totalRetries > 0) return 'retried';
    return 'success';
  }

  answered(res: GatewayResponse, ctx: RequestContext): void {
    const provider = res.source === 'upstream' || res.source === 'cache' ? (ctx.target?.provider ?? 'none') : 'none';
    const model = this.models.of(ctx.model);
    this.requests.labels(ctx.endpoint, provider, model, String(res.status), GatewayMetrics.outcome(res, ctx)).inc();
    this.duration.labels(ctx.endpoint).observe((performance.now() - ctx.t0) / 1000);
    const u = ctx.usage;
    if (u) {
      if (u.prompt_tokens) this.tokens.labels(provider, model, 'input').inc(u.prompt_tokens);
      if (u.completion_tokens) this.tokens.labels(provider, model, 'output').inc(u.completion_tokens);
      const cached = u.prompt_tokens_details?.cached_tokens;
      if (cached) this.tokens.labels(provider, model, 'cached').inc(cached);
    }
  }

  failed(err: GatewayError, ctx: RequestContext): void {
    if (ctx.target) this.attemptErrors.labels(ctx.target.provider, String(err.status ?? 0)).inc();
  }
}

/**
 * Serves Prometheus metrics at `/metrics` from a registry of its own. With gateway auth on
 * ($WAYGATE_ADMIN_KEY) or a metrics token, a scrape must carry one of them as a bearer token.
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  setup(api, options) {
    const env = process.env;
    const metrics = new GatewayMetrics(options.maxModels);
    const accepted: Buffer[] = [];
    const token = options.token ?? env.WAYGATE_METRICS_TOKEN;
    if (token) accepted.push(sha256(token));
    if (env.WAYGATE_ADMIN_KEY) accepted.push(sha256(env.WAYGATE_ADMIN_KEY));
    const adminAuth = api.registry<(presented: string) => boolean>('admin-auth');
    const counted = new WeakSet<RequestContext>();
    // At CONFIG, the first stage after AUTH: a tap at AUTH would tell the core that this plugin authenticates callers.
    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => {
      if (ctx.madeBy === undefined) {
        counted.add(ctx);
        metrics.inFlight.labels(ctx.endpoint).inc();
      }
      return undefined;
    });
    api.hooks.onError.tap(OnErrorStage.OBSERVE, (err, ctx) => {
      metrics.failed(err, ctx);
      return undefined;
    });
    api.hooks.afterResponse.tap(AfterResponseStage.RELEASE, (res, ctx) => {
      if (counted.has(ctx)) metrics.inFlight.labels(ctx.endpoint).dec();
      return res;
    });
    // At LOG, after the usage tap has recorded the tokens the answer reported.
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res, ctx) => {
      counted.delete(ctx);
      if (ctx.madeBy === undefined) metrics.answered(res, ctx);
      return res;
    });
    api.register.route(options.path, async (req, res) => {
      if (!authorised(req.headers.authorization, accepted, adminAuth.get('admin'))) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'metrics need the admin key or the metrics token as a bearer token', type: 'unauthorized' } }));
        return;
      }
      const body = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(body);
    });
  },
});
