import { z } from 'zod';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { AfterResponseStage, BeforeRequestStage, definePlugin, pluginManifest } from '@waygate/core';
import type { EndpointCodec, GatewayResponse, PluginApi, RequestContext, SSEEvent } from '@waygate/core';
import { watchStream } from '@waygate/provider-kit';
import { CATEGORIES, mapRequestTexts, redact, rulesFor, scan } from '@waygate/guardrail-pii';
import { bounded, finishReader, outputMessages } from './content.js';
import type { FinishReader } from './content.js';
import { finishReasons, operationName, providerName } from './genai.js';

export { finishReasons, operationName, providerName } from './genai.js';
export { bounded, finishReader, outputMessages } from './content.js';
export type { OutputMessage, Part } from './content.js';

export const TracingOptionsSchema = z.strictObject({
  /**
   * Off (`false`), or on (`true`) even before an OpenTelemetry SDK is registered. Default: on when
   * one is (the waygate CLI registers one when `OTEL_*` or these options ask for traces).
   */
  enabled: z.boolean().optional(),
  /** SDK setting, read by the waygate CLI at start-up: the OTLP/HTTP traces URL (`…/v1/traces`), over `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`. */
  endpoint: z.url().optional(),
  /** SDK setting, read by the CLI at start-up: headers sent to the collector, over `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
  headers: z.record(z.string(), z.string()).optional(),
  /** SDK setting, read by the CLI at start-up: `service.name`, over `OTEL_SERVICE_NAME`; default `waygate`. */
  serviceName: z.string().min(1).optional(),
  /** SDK setting, read by the CLI at start-up: the share of new traces kept (parent-based), over `OTEL_TRACES_SAMPLER(_ARG)`. */
  sampleRatio: z.number().min(0).max(1).optional(),
  /** Record prompt and completion texts (JSON answers and streams), after the PII engine of @waygate/guardrail-pii redacted them. Off by default. */
  captureContent: z.boolean().default(false),
  /** With captureContent: the characters of text recorded per attribute (`gen_ai.input.messages`, `gen_ai.output.messages`); past it, texts are cut. */
  maxContentChars: z.number().int().min(1).max(1_048_576).default(16_384),
});
export type TracingOptions = z.output<typeof TracingOptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'observability');

/** With captureContent, a stream's events are held up to this many characters of event data (then only its end event). */
export const STREAM_HOLD_CHARS = 1_048_576;

const SDK_SETTINGS = ['endpoint', 'headers', 'serviceName', 'sampleRatio'] as const;

/** The registered provider's tracer, or undefined when no OpenTelemetry SDK registered one. */
function registeredTracer(): Tracer | undefined {
  const p: TracerProvider & { getDelegateTracer?: (name: string, version?: string) => Tracer | undefined } = trace.getTracerProvider();
  return p.getDelegateTracer ? p.getDelegateTracer(manifest.name, manifest.version) : p.getTracer(manifest.name, manifest.version);
}

/** The SDK settings of the first config this process loaded: a reload that changes them is told they wait for a restart. */
let firstSdkSettings: string | undefined;

interface Open {
  span: Span;
  parent: Context;
  model: string | undefined;
  operation: string;
}

/** What a stream told, for its span. */
interface Seen {
  reasons: string[];
  /** The answer the held events make (captureContent), and whether events were left out. */
  answer?: unknown;
  held?: boolean;
}

type Redactor = (t: string) => string;

const headerGetter = {
  keys: (h: RequestContext['headers']) => Object.keys(h),
  get: (h: RequestContext['headers'], key: string) => h[key],
};
const headerSetter = { set: (h: Record<string, string>, key: string, value: string) => void (h[key] = value) };

/**
 * Traces every request with OpenTelemetry's API: a server span per request (its parent the caller's
 * W3C `traceparent`), a client span per upstream attempt, GenAI semantic-convention attributes
 * (operation, provider, request and response model, tokens, finish reasons) and the gateway's own
 * (target path, attempts, cache status, cost); the upstream gets a `traceparent` naming the server
 * span. The SDK (provider, sampler, OTLP/HTTP exporter) is the host's: the waygate CLI sets it up
 * from `OTEL_*` (core/bin/otel.ts). Off when no SDK is registered.
 */
export default definePlugin({
  manifest,
  configSchema: TracingOptionsSchema,
  setup(api, options) {
    const given = SDK_SETTINGS.filter((k) => options[k] !== undefined);
    const sdkSettings = JSON.stringify(SDK_SETTINGS.map((k) => options[k] ?? null));
    if (firstSdkSettings === undefined) firstSdkSettings = sdkSettings;
    else if (sdkSettings !== firstSdkSettings) {
      api.logger.warn(
        { options: given },
        'tracing: the SDK settings (endpoint, headers, serviceName, sampleRatio) are read at start-up; restart to apply the changed ones',
      );
    }
    if (options.enabled === false) return;
    let tracer = registeredTracer();
    if (!tracer) {
      if (options.enabled !== true) {
        if (given.length) {
          api.logger.warn(
            { options: given },
            'tracing: no OpenTelemetry SDK is registered, so no spans are exported; these options are SDK settings that the waygate CLI reads at start-up (in-process: startTracing() of @waygate/core/otel)',
          );
        }
        return;
      }
      api.logger.warn('tracing: enabled, but no OpenTelemetry SDK is registered yet: spans go nowhere until one is');
      tracer = trace.getTracer(manifest.name, manifest.version);
    }
    const t = tracer;
    const rules = options.captureContent ? rulesFor(CATEGORIES) : undefined;
    const redacted: Redactor | undefined = rules
      ? (text) => {
          const found = scan(text, rules);
          return found.length ? redact(text, found, (kind) => `[REDACTED_${kind}]`) : text;
        }
      : undefined;
    const max = options.maxContentChars;
    const open = new WeakMap<RequestContext, Open>();

    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => {
      if (ctx.madeBy !== undefined) return undefined;
      const o = start(t, ctx);
      // A trace the sampler dropped costs nothing more: no attributes, no stream watched.
      if (o.span.isRecording()) open.set(ctx, o);
      return undefined;
    });
    api.hooks.afterResponse.tap(AfterResponseStage.LOG, (res, ctx) => {
      const o = open.get(ctx);
      if (!o) return res;
      open.delete(ctx);
      if (redacted) {
        const body = ctx.body;
        if (body) {
          const b = bounded(redacted, max);
          o.span.setAttribute('gen_ai.input.messages', JSON.stringify(inputOf(body, b.fn)));
          if (b.truncated) o.span.setAttribute('waygate.content.truncated', true);
        }
      }
      if (!res.stream) {
        finish(t, o, res, ctx, redacted && { redacted, max });
        return res;
      }
      res.stream = watchedStream(res.stream, api, ctx, (seen) => finish(t, o, res, ctx, redacted && { redacted, max }, seen), !!redacted);
      return res;
    });
  },
});

/** The request's keys that hold the prompt; nothing else of it (a `user`, `metadata`, tool definitions) is recorded. */
const INPUT_KEYS = ['instructions', 'system', 'messages', 'prompt', 'input'] as const;

/** The prompt of a request (every format's keys for it), each text through `fn`. */
function inputOf(body: Record<string, unknown>, fn: Redactor): Record<string, unknown> {
  const mapped = mapRequestTexts(body, fn);
  const out: Record<string, unknown> = {};
  for (const k of INPUT_KEYS) {
    if (!(k in mapped)) continue;
    const v = mapped[k];
    // The Responses API's instructions are not among the PII engine's request texts: mapped here.
    out[k] = k === 'instructions' && typeof v === 'string' ? fn(v) : v;
  }
  return out;
}

/**
 * The stream relayed unchanged, its end reported with what it told: finish reasons (endpoints whose
 * streams the plugin reads: a cheap test per event), and with captureContent the answer its events
 * make (the endpoint's codec over the events held, up to STREAM_HOLD_CHARS of their data).
 */
function watchedStream(
  stream: AsyncIterable<SSEEvent>,
  api: PluginApi,
  ctx: RequestContext,
  done: (seen: Seen) => void,
  capture: boolean,
): AsyncIterable<SSEEvent> {
  const reader: FinishReader | undefined = finishReader(ctx.endpoint);
  const reasons: string[] = [];
  const codec: EndpointCodec | undefined = capture && reader ? api.endpointOf(ctx)?.codec : undefined;
  if (!codec) {
    if (!reader) return watchStream(stream, { end: () => done({ reasons }) });
    return watchStream(stream, { event: (ev) => reader(ev, reasons), end: () => done({ reasons: reasons.filter(Boolean) }) });
  }
  const events: SSEEvent[] = [];
  let chars = 0;
  let last: SSEEvent | undefined;
  let left = false;
  return watchStream(stream, {
    event(ev) {
      reader!(ev, reasons);
      if (chars + ev.data.length <= STREAM_HOLD_CHARS) {
        chars += ev.data.length;
        events.push(ev);
      } else {
        left = true;
        last = ev;
      }
    },
    end() {
      // The last event ends a stream (the Responses API's holds the whole response): kept beyond the bound.
      if (last) events.push(last);
      let answer: unknown;
      try {
        answer = events.length ? codec.fromEvents(events) : undefined;
      } catch {
        answer = undefined;
      }
      done({ reasons: reasons.filter(Boolean), answer, held: left });
    },
  });
}

function start(tracer: Tracer, ctx: RequestContext): Open {
  const parent = propagation.extract(ROOT_CONTEXT, ctx.headers, headerGetter);
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
  if (span.spanContext().traceFlags & 1) propagation.inject(trace.setSpan(ROOT_CONTEXT, span), ctx.upstreamHeaders, headerSetter);
  return { span, parent, model, operation };
}

function finish(
  tracer: Tracer,
  o: Open,
  res: GatewayResponse,
  ctx: RequestContext,
  content: { redacted: Redactor; max: number } | undefined,
  seen?: Seen,
): void {
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
  if (res.status < 400) {
    let body: unknown;
    if (seen) body = seen.answer;
    else {
      try {
        body = res.body;
      } catch {
        body = undefined;
      }
    }
    const reasons = seen ? seen.reasons : finishReasons(body);
    if (reasons.length) attrs['gen_ai.response.finish_reasons'] = reasons;
    if (content && body !== undefined) {
      const b = bounded(content.redacted, content.max);
      const messages = outputMessages(body, b.fn);
      if (messages) attrs['gen_ai.output.messages'] = JSON.stringify(messages);
      if (b.truncated || seen?.held) attrs['waygate.content.truncated'] = true;
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
