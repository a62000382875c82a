import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Gauge, Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily } from './series.js';
import type { RegistryMetric } from './series.js';
import { ClusterMetrics, inCluster } from './cluster.js';
import { AfterResponseStage, BeforeRequestStage, OnErrorStage, definePlugin, pluginManifest } from '@waygate/core';
import type { GatewayError, GatewayResponse, RequestContext, SSEEvent } from '@waygate/core';
import { watchStream } from '@waygate/provider-kit';

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

/** Seconds: from a millisecond cache hit to a minute-long completion. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds of the gateway's own work per request: far below a round trip. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/** A circuit's states as the circuit breaker names them; exposed as a Prometheus state set. */
const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;

/** What `@waygate/circuit-breaker` offers in its `circuit-states` registry: each target's state by its key. */
export type CircuitStates = () => ReadonlyMap<string, string>;

/** The gateway's Prometheus metrics, in a registry of their own. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly models: CappedLabel;
  readonly targets: CappedLabel;
  readonly requests: CounterFamily;
  readonly duration: HistogramFamily;
  readonly upstream: HistogramFamily;
  readonly firstToken: HistogramFamily;
  readonly overhead: HistogramFamily;
  readonly tokens: CounterFamily;
  readonly cost: CounterFamily;
  readonly attemptErrors: CounterFamily;
  readonly retries: CounterFamily;
  readonly fallbacks: CounterFamily;
  readonly cache: CounterFamily;
  readonly inFlight: GaugeFamily;
  readonly streams: GaugeFamily;

  constructor(maxModels = 50, circuits?: () => CircuitStates | undefined) {
    this.models = new CappedLabel(maxModels);
    this.targets = new CappedLabel(maxModels);
    const registers = [this.registry];
    const registered = <M extends RegistryMetric>(m: M): M => {
      // prom-client's registry prints any metric that answers get() as its own classes do.
      this.registry.registerMetric(m as unknown as Gauge);
      return m;
    };
    const counter = (name: string, help: string, labelNames: string[]) => registered(new CounterFamily(name, help, labelNames));
    const histogram = (name: string, help: string, labelNames: string[], buckets = LATENCY_BUCKETS) =>
      registered(new HistogramFamily(name, help, labelNames, buckets));
    const gauge = (name: string, help: string, labelNames: string[]) => registered(new GaugeFamily(name, help, labelNames));
    this.requests = counter('waygate_requests_total', 'Requests answered, by endpoint, provider, model, status and outcome', [
      'endpoint',
      'provider',
      'model',
      'status',
      'outcome',
    ]);
    this.duration = histogram('waygate_request_duration_seconds', 'Total time from request to answer headers', ['endpoint']);
    this.upstream = histogram('waygate_upstream_duration_seconds', 'Time spent waiting on upstreams per request, all attempts, to the end of a stream', [
      'provider',
    ]);
    this.firstToken = histogram('waygate_time_to_first_token_seconds', 'Streams: time from request to the first event relayed', ['provider']);
    this.overhead = histogram(
      'waygate_gateway_overhead_seconds',
      "The gateway's own time per request: to answer headers, less upstream time",
      ['endpoint'],
      OVERHEAD_BUCKETS,
    );
    this.tokens = counter('waygate_tokens_total', 'Tokens reported by upstreams', ['provider', 'model', 'kind']);
    this.cost = counter('waygate_cost_usd_total', 'Cost of answered requests in US dollars (priced by @waygate/auth)', ['provider', 'model']);
    this.attemptErrors = counter('waygate_upstream_errors_total', 'Failed upstream attempts (each retry and fallback is one)', ['provider', 'status']);
    this.retries = counter('waygate_retries_total', 'Retries made, by the provider of the target retried', ['provider']);
    this.fallbacks = counter('waygate_fallbacks_total', 'Requests answered by a target other than the first', ['endpoint']);
    this.cache = counter('waygate_cache_requests_total', 'Cache lookups by mode (simple, semantic) and status (hit, miss, refresh)', ['mode', 'status']);
    this.inFlight = gauge('waygate_requests_in_flight', 'Requests being handled', ['endpoint']);
    this.streams = gauge('waygate_streams_in_flight', 'Streamed answers being relayed', ['endpoint']);
    const targets = this.targets;
    new Gauge({
      name: 'waygate_circuit_state',
      help: 'Circuit state per target (1 for its current state), as @waygate/circuit-breaker sees it in this process',
      labelNames: ['provider', 'base_url', 'key', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [target, state] of circuits?.()?.() ?? []) {
          const [provider = '', baseURL = '', key = ''] = target.split('|');
          const base = targets.of(baseURL || 'default');
          for (const s of CIRCUIT_STATES) this.labels(provider, base, key.slice(0, 8), s).set(s === state ? 1 : 0);
        }
      },
    });
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

  static provider(res: GatewayResponse, ctx: RequestContext): string {
    return res.source === 'upstream' || res.source === 'cache' ? (ctx.target?.provider ?? 'none') : 'none';
  }

  /** At answer headers: the request, its latency, overhead, retries, fallback and cache lookup; a JSON answer's tokens and cost too. */
  answered(res: GatewayResponse, ctx: RequestContext): void {
    const provider = GatewayMetrics.provider(res, ctx);
    this.requests.of(ctx.endpoint, provider, this.models.of(ctx.model), String(res.status), GatewayMetrics.outcome(res, ctx)).inc();
    const total = (performance.now() - ctx.t0) / 1000;
    this.duration.of(ctx.endpoint).observe(total);
    this.overhead.of(ctx.endpoint).observe(Math.max(0, total - ctx.upstreamMs / 1000));
    if (ctx.totalRetries > 0 && ctx.target) this.retries.of(ctx.target.provider).inc(ctx.totalRetries);
    if (ctx.targetIndex > 0 && res.status < 400) this.fallbacks.of(ctx.endpoint).inc();
    const cache = ctx.annotations?.cache;
    if (typeof cache === 'string') {
      const [mode, status] = cache.startsWith('SEMANTIC ') ? ['semantic', cache.slice(9)] : ['simple', cache];
      this.cache.of(mode, status.toLowerCase()).inc();
    }
    if (!res.stream) this.settled(res, ctx, provider);
  }

  /** When an answer is complete (a JSON answer at once, a stream at its end): upstream time, tokens and cost. */
  settled(res: GatewayResponse, ctx: RequestContext, provider = GatewayMetrics.provider(res, ctx)): void {
    if (res.source === 'upstream') this.upstream.of(provider).observe(ctx.upstreamMs / 1000);
    const model = this.models.of(ctx.model);
    const u = ctx.usage;
    if (u) {
      if (u.prompt_tokens) this.tokens.of(provider, model, 'input').inc(u.prompt_tokens);
      if (u.completion_tokens) this.tokens.of(provider, model, 'output').inc(u.completion_tokens);
      const cached = u.prompt_tokens_details?.cached_tokens;
      if (cached) this.tokens.of(provider, model, 'cached').inc(cached);
      const reasoning = (u.completion_tokens_details as { reasoning_tokens?: unknown } | undefined)?.reasoning_tokens;
      if (typeof reasoning === 'number' && reasoning > 0) this.tokens.of(provider, model, 'reasoning').inc(reasoning);
    }
    const cost = ctx.annotations?.costUsd;
    if (typeof cost === 'number' && cost > 0) this.cost.of(provider, model).inc(cost);
  }

  failed(err: GatewayError, ctx: RequestContext): void {
    if (ctx.target) this.attemptErrors.of(ctx.target.provider, String(err.status ?? 0)).inc();
  }

  /**
   * Relays a stream, counting it in flight, its first event's time and, when it ends however it ends
   * (done, failed, left by the client), its tokens and cost.
   */
  watch(inner: AsyncIterable<SSEEvent>, res: GatewayResponse, ctx: RequestContext): AsyncIterable<SSEEvent> {
    const provider = GatewayMetrics.provider(res, ctx);
    const streams = this.streams.of(ctx.endpoint);
    let first = true;
    return watchStream(inner, {
      start: () => streams.inc(),
      event: () => {
        if (!first) return;
        first = false;
        this.firstToken.of(provider).observe((performance.now() - ctx.t0) / 1000);
      },
      end: () => {
        streams.dec();
        this.settled(res, ctx, provider);
      },
    });
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
    const circuits = api.registry<CircuitStates>('circuit-states');
    const metrics = new GatewayMetrics(options.maxModels, () => circuits.get('circuit-breaker'));
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
        metrics.inFlight.of(ctx.endpoint).inc();
      }
      return undefined;
    });
    api.hooks.onError.tap(OnErrorStage.OBSERVE, (err, ctx) => {
      metrics.failed(err, ctx);
      return undefined;
    });
    // At LOG, after the usage tap has recorded the tokens the answer reported.
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res, ctx) => {
      if (counted.delete(ctx)) metrics.inFlight.of(ctx.endpoint).dec();
      if (ctx.madeBy !== undefined) return res;
      metrics.answered(res, ctx);
      if (res.stream) res.stream = metrics.watch(res.stream, res, ctx);
      return res;
    });
    // Under `waygate --workers N`, a scrape of any worker answers for all of them.
    const clustered = inCluster() ? new ClusterMetrics(() => metrics.registry.metrics()) : undefined;
    if (clustered) api.onClose(() => clustered.close());
    api.register.route(options.path, async (req, res) => {
      if (!authorised(req.headers.authorization, accepted, adminAuth.get('admin'))) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'metrics need the admin key or the metrics token as a bearer token', type: 'unauthorized' } }));
        return;
      }
      const body = clustered ? await clustered.gather() : await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(body);
    });
  },
});
