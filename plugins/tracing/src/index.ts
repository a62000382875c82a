import { z } from 'zod';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { AfterResponseStage, BeforeRequestStage, definePlugin, pluginManifest } from '@waygate/core';
import type { GatewayResponse, RequestContext } from '@waygate/core';
import { watchStream } from '@waygate/provider-kit';
import { CATEGORIES, mapRequestTexts, mapResponseTexts, redact, rulesFor, scan } from '@waygate/guardrail-pii';
import { finishReasons, operationName, providerName } from './genai.js';

export { finishReasons, operationName, providerName } from './genai.js';

export const TracingOptionsSchema = z.strictObject({
  /** On, off, or (default) on when an OTLP endpoint is configured here or in `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`. */
  enabled: z.boolean().optional(),
  /** The OTLP/HTTP traces URL (`…/v1/traces`); default from the `OTEL_*` environment. */
  endpoint: z.url().optional(),
  /** Headers sent to the collector (default: `OTEL_EXPORTER_OTLP_HEADERS`). */
  headers: z.record(z.string(), z.string()).optional(),
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `waygate`. */
  serviceName: z.string().min(1).optional(),
  /** The share of new traces kept (a caller's sampled flag is followed); default `OTEL_TRACES_SAMPLER_ARG`, else 1. */
  sampleRatio: z.number().min(0).max(1).optional(),
  /** Record prompt and completion texts (JSON answers), after the PII engine of @waygate/guardrail-pii redacted them. Off by default. */
  captureContent: z.boolean().default(false),
});
export type TracingOptions = z.output<typeof TracingOptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'observability');

/** Whether tracing is on: the option, else an OTLP endpoint set in the options or the environment. */
export function tracingEnabled(options: TracingOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.enabled !== undefined) return options.enabled;
  return !!(options.endpoint || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true';
}

function sampleRatio(options: TracingOptions, env: NodeJS.ProcessEnv): number {
  if (options.sampleRatio !== undefined) return options.sampleRatio;
  const fromEnv = Number(env.OTEL_TRACES_SAMPLER_ARG);
  return env.OTEL_TRACES_SAMPLER_ARG !== undefined && Number.isFinite(fromEnv) && fromEnv >= 0 && fromEnv <= 1 ? fromEnv : 1;
}

interface Open {
  span: Span;
  parent: Context;
  model: string | undefined;
  operation: string;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (h: RequestContext['headers']) => Object.keys(h),
  get: (h: RequestContext['headers'], key: string) => h[key],
};
const headerSetter = { set: (h: Record<string, string>, key: string, value: string) => void (h[key] = value) };

/**
 * Traces every request with OpenTelemetry: a server span per request (its parent the caller's W3C
 * `traceparent`), a client span per upstream attempt, GenAI semantic-convention attributes (operation,
 * provider, request and response model, tokens, finish reasons) and the gateway's own (target path,
 * attempts, cache status, cost); the upstream gets a `traceparent` naming the server span. Spans go
 * out in batches over OTLP/HTTP. Off unless an endpoint is configured.
 */
export default definePlugin({
  manifest,
  configSchema: TracingOptionsSchema,
  setup(api, options) {
    const env = process.env;
    if (!tracingEnabled(options, env)) return;
    const exporter = new OTLPTraceExporter({ ...(options.endpoint && { url: options.endpoint }), ...(options.headers && { headers: options.headers }) });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'waygate', 'service.version': manifest.version }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio(options, env)) }),
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
    });
    api.onClose(() => provider.shutdown());
    const tracer = provider.getTracer(manifest.name, manifest.version);
    const rules = options.captureContent ? rulesFor(CATEGORIES) : undefined;
    const redacted = (t: string): string => {
      const found = scan(t, rules!);
      return found.length ? redact(t, found, (kind) => `[REDACTED_${kind}]`) : t;
    };
    const open = new WeakMap<RequestContext, Open>();

    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => {
      if (ctx.madeBy !== undefined) return undefined;
      open.set(ctx, start(tracer, ctx));
      return undefined;
    });
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res, ctx) => {
      const o = open.get(ctx);
      if (!o) return res;
      open.delete(ctx);
      if (rules) {
        const body = ctx.body;
        if (body) o.span.setAttribute('gen_ai.input.messages', JSON.stringify(mapRequestTexts(body, redacted)));
      }
      if (!res.stream) {
        finish(tracer, o, res, ctx, rules ? redacted : undefined);
        return res;
      }
      res.stream = watchStream(res.stream, { end: () => finish(tracer, o, res, ctx, undefined) });
      return res;
    });
  },
});

function start(tracer: Tracer, ctx: RequestContext): Open {
  const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, headerGetter);
  const model = typeof ctx.body?.model === 'string' ? ctx.body.model : undefined;
  const operation = operationName(ctx.endpoint);
  const attributes: Attributes = {
    'gen_ai.operation.name': operation,
    'http.request.method': ctx.method,
    'url.path': ctx.path,
    'waygate.request.id': ctx.id,
    'waygate.endpoint': ctx.endpoint,
  };
  if (model) attributes['gen_ai.request.model'] = model;
  const body = ctx.body;
  if (body) {
    const max = body.max_tokens ?? body.max_completion_tokens ?? body.max_output_tokens;
    if (typeof max === 'number') attributes['gen_ai.request.max_tokens'] = max;
    if (typeof body.temperature === 'number') attributes['gen_ai.request.temperature'] = body.temperature;
    if (typeof body.top_p === 'number') attributes['gen_ai.request.top_p'] = body.top_p;
    if (body.stream === true) attributes['waygate.stream'] = true;
  }
  const span = tracer.startSpan(
    model ? `${operation} ${model}` : operation,
    { kind: SpanKind.SERVER, attributes, startTime: performance.timeOrigin + ctx.t0 },
    parent,
  );
  // The upstream's spans hang under this one.
  if (span.spanContext().traceFlags & 1) propagator.inject(trace.setSpan(ROOT_CONTEXT, span), ctx.upstreamHeaders, headerSetter);
  return { span, parent, model, operation };
}

function finish(tracer: Tracer, o: Open, res: GatewayResponse, ctx: RequestContext, redacted: ((t: string) => string) | undefined): void {
  const { span } = o;
  const now = performance.timeOrigin + performance.now();
  const asParent = trace.setSpan(ROOT_CONTEXT, span);
  const attempts = ctx.attempts;
  attempts.forEach((a, i) => {
    const attrs: Attributes = { 'gen_ai.operation.name': o.operation, 'gen_ai.provider.name': providerName(a.provider), 'waygate.target.path': a.target };
    if (o.model) attrs['gen_ai.request.model'] = o.model;
    if (a.status !== undefined) attrs['http.response.status_code'] = a.status;
    if (a.error) attrs['error.type'] = a.error;
    const startTime = a.at ?? now - a.ms;
    // The attempt that answered a stream lasts until the stream ends.
    const endTime = i === attempts.length - 1 && !a.error && res.stream ? now : startTime + a.ms;
    const client = tracer.startSpan(
      o.model ? `${o.operation} ${o.model}` : o.operation,
      { kind: SpanKind.CLIENT, attributes: attrs, startTime },
      asParent,
    );
    if (a.error) client.setStatus({ code: SpanStatusCode.ERROR, message: a.error });
    client.end(endTime);
  });
  const attrs: Attributes = {
    'http.response.status_code': res.status,
    'waygate.attempts': attempts.length,
    'waygate.retries': Math.max(0, attempts.length - 1),
  };
  if (ctx.target) {
    attrs['gen_ai.provider.name'] = providerName(ctx.target.provider);
    attrs['waygate.target.path'] = ctx.target.path;
  }
  if (ctx.model) attrs['gen_ai.response.model'] = ctx.model;
  const u = ctx.usage;
  if (u?.prompt_tokens !== undefined) attrs['gen_ai.usage.input_tokens'] = u.prompt_tokens;
  if (u?.completion_tokens !== undefined) attrs['gen_ai.usage.output_tokens'] = u.completion_tokens;
  const cached = u?.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') attrs['gen_ai.usage.cached_tokens'] = cached;
  const cache = res.headers['x-waygate-cache-status'] ?? ctx.responseHeaders['x-waygate-cache-status'];
  if (typeof cache === 'string') attrs['waygate.cache.status'] = cache;
  const cost = ctx.annotations?.costUsd;
  if (typeof cost === 'number') attrs['waygate.cost_usd'] = cost;
  if (!res.stream && res.status < 400) {
    let body: unknown;
    try {
      body = res.body;
    } catch {
      body = undefined;
    }
    const reasons = finishReasons(body);
    if (reasons.length) attrs['gen_ai.response.finish_reasons'] = reasons;
    if (redacted && body && typeof body === 'object' && !Array.isArray(body)) {
      attrs['gen_ai.output.messages'] = JSON.stringify(mapResponseTexts(body as Record<string, unknown>, redacted));
    }
  }
  if (res.status >= 500 || ctx.lastError?.status === res.status) {
    const type = ctx.lastError?.code ?? String(res.status);
    attrs['error.type'] = type;
    span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  }
  span.setAttributes(attrs);
  span.end(now);
}
