/**
 * The OpenTelemetry SDK of the `waygate` command. Plugins (`@waygate/tracing`) use only
 * `@opentelemetry/api`; this module, run by the CLI before the gateway loads (in each worker under
 * `--workers`), registers the global tracer provider and propagator when the standard `OTEL_*`
 * environment asks for traces, and flushes and shuts them down when the gateway closes. A hot reload
 * keeps the provider: it is set up once per process.
 *
 * In-process (tests, a program embedding `startGateway()`), call `startTracing()` before
 * `startGateway()` and `shutdown()` after `close()`: the same wiring as the CLI's.
 */
import { DiagLogLevel, diag, propagation, trace } from '@opentelemetry/api';
import type { DiagLogger, TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadConfigFile } from '../src/config.js';
import { CORE_VERSION } from '../src/version.js';
import { SpanBatchSerializer } from './otlp-proto.js';
import type { SpanBatch } from './otlp-proto.js';
import { EncodingSpanProcessor, batchOptionsFromEnv } from './otlp-processor.js';

/**
 * SDK settings that may also come from the config file: `@waygate/tracing`'s options `enabled`,
 * `endpoint`, `headers`, `serviceName`, `sampleRatio`. Each wins over its `OTEL_*` variable.
 */
export interface TracingSettings {
  /** Force traces on (with the default endpoint if none is set) or off. */
  enabled?: boolean;
  /** The OTLP/HTTP traces URL (`…/v1/traces`). Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  endpoint?: string;
  /** Headers sent to the collector. Default: `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS`. */
  headers?: Record<string, string>;
  /** `service.name`. Default: `OTEL_SERVICE_NAME`, else `OTEL_RESOURCE_ATTRIBUTES`' `service.name`, else `waygate`. */
  serviceName?: string;
  /** The share of new traces kept, parent-based. Default: `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`, else all. */
  sampleRatio?: number;
}

/** The running SDK. */
export interface Tracing {
  /** `otlp` (with its protocol) and/or `console`. */
  readonly exporters: readonly string[];
  /** The settings it was started with. */
  readonly settings: Readonly<TracingSettings>;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Flushes, stops the provider and unregisters the globals (a later `startTracing()` may register again). */
  shutdown(): Promise<void>;
}

type Env = NodeJS.ProcessEnv;

/** What the CLI says on stderr about its SDK set-up (an unsupported setting is said, not dropped). */
const warn = (message: string): void => void process.stderr.write(`waygate: ${message}\n`);

const LOG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** The SDK's own messages (an export that failed, a collector that refused) on stderr, from `OTEL_LOG_LEVEL` (default `warn`). */
function sdkLogger(): DiagLogger {
  const line =
    (level: string) =>
    (message: string, ...args: unknown[]): void =>
      void process.stderr.write(
        `waygate: opentelemetry ${level}: ${[message, ...args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)))].join(' ')}\n`,
      );
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug'), verbose: line('verbose') };
}

/** The exporters `OTEL_TRACES_EXPORTER` names (`otlp`, `console`, `none`), or undefined when unset. */
function exportersOf(env: Env): string[] | undefined {
  const text = env.OTEL_TRACES_EXPORTER?.trim();
  if (!text) return undefined;
  return text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * Whether traces are on: never with `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none` or
 * `enabled: false`; else when `enabled: true`, an endpoint is set (the settings,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`: either alone turns traces
 * on), or `OTEL_TRACES_EXPORTER` names an exporter.
 */
export function tracingEnabled(settings: TracingSettings, env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = exportersOf(env);
  if (exporters?.includes('none')) return false;
  if (settings.enabled !== undefined) return settings.enabled;
  return !!(settings.endpoint || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || exporters?.length);
}

/**
 * `http/protobuf` (the default, as the OTLP exporter specification says) or `http/json`, from
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`.
 */
export function otlpProtocol(env: Env): 'http/json' | 'http/protobuf' {
  const p = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim().toLowerCase();
  if (p === 'http/json') return 'http/json';
  if (p && p !== 'http/protobuf') warn(`OTLP protocol ${p} is not supported (http/protobuf, http/json); using http/protobuf`);
  return 'http/protobuf';
}

/**
 * OTLP/HTTP protobuf: the SDK's transport (env, headers, timeout, compression, retries) behind a
 * processor that encodes each span as it ends (./otlp-processor.ts, ./otlp-proto.ts).
 */
function protobufProcessor(config: ConstructorParameters<typeof OTLPJsonTraceExporter>[0], env: Env): SpanProcessor {
  const exporter = new OTLPExporterBase<SpanBatch>(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions(config ?? {}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      SpanBatchSerializer,
    ),
  );
  return new EncodingSpanProcessor(exporter, batchOptionsFromEnv(env));
}

/** The propagators `OTEL_PROPAGATORS` names (`tracecontext`, `baggage`; default both; `none`). */
function propagatorOf(env: Env): TextMapPropagator | undefined {
  const names = (env.OTEL_PROPAGATORS?.trim() || 'tracecontext,baggage').split(',').map((s) => s.trim().toLowerCase());
  if (names.includes('none')) return undefined;
  const list: TextMapPropagator[] = [];
  if (names.includes('tracecontext')) list.push(new W3CTraceContextPropagator());
  if (names.includes('baggage')) list.push(new W3CBaggagePropagator());
  return list.length ? new CompositePropagator({ propagators: list }) : undefined;
}

let running: Tracing | undefined;

/**
 * Sets up the SDK when `tracingEnabled(settings, env)`: a `BasicTracerProvider` (sampler and span
 * limits from `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_*_LIMIT`, unless `sampleRatio` is set), a
 * `BatchSpanProcessor` (`OTEL_BSP_*`) to the OTLP/HTTP exporter (`OTEL_EXPORTER_OTLP_*`: endpoint,
 * headers, timeout, compression, protocol) and/or the console, the resource from
 * `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`, and the W3C propagators (`OTEL_PROPAGATORS`),
 * all registered globally. Returns the running SDK, or undefined when traces are off. Once per
 * process: a second call while one runs returns the first (a hot reload makes no second provider).
 */
export function startTracing(opts: { settings?: TracingSettings; env?: Env } = {}): Tracing | undefined {
  if (running) return running;
  const settings = opts.settings ?? {};
  const env = opts.env ?? process.env;
  if (!tracingEnabled(settings, env)) return undefined;

  const level = LOG_LEVELS[env.OTEL_LOG_LEVEL?.trim().toLowerCase() ?? 'warn'] ?? DiagLogLevel.WARN;
  diag.setLogger(sdkLogger(), { logLevel: level, suppressOverrideMessage: true });
  const names = exportersOf(env) ?? ['otlp'];
  const processors: SpanProcessor[] = [];
  const described: string[] = [];
  for (const name of names) {
    if (name === 'otlp') {
      const protocol = otlpProtocol(env);
      const config = { ...(settings.endpoint && { url: settings.endpoint }), ...(settings.headers && { headers: settings.headers }) };
      processors.push(protocol === 'http/protobuf' ? protobufProcessor(config, env) : new BatchSpanProcessor(new OTLPJsonTraceExporter(config)));
      described.push(`otlp (${protocol})`);
    } else if (name === 'console') {
      processors.push(new BatchSpanProcessor(new ConsoleSpanExporter()));
      described.push('console');
    } else {
      warn(`OTEL_TRACES_EXPORTER ${name} is not supported (otlp, console, none); left out`);
    }
  }
  if (!processors.length) {
    diag.disable();
    return undefined;
  }

  // Ours first, then what the environment says (OTEL_SERVICE_NAME wins over the default), then the config's serviceName.
  let resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'waygate', 'service.version': CORE_VERSION, 'process.pid': process.pid }))
    .merge(detectResources({ detectors: [envDetector] }));
  if (settings.serviceName) resource = resource.merge(resourceFromAttributes({ 'service.name': settings.serviceName }));

  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: processors,
    ...(settings.sampleRatio !== undefined && { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }) }),
  });
  trace.setGlobalTracerProvider(provider);
  const propagator = propagatorOf(env);
  if (propagator) propagation.setGlobalPropagator(propagator);

  let stopped: Promise<void> | undefined;
  const handle: Tracing = {
    exporters: described,
    settings: { ...settings },
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopped ??= provider.shutdown().finally(() => {
        trace.disable();
        propagation.disable();
        diag.disable();
        if (running === handle) running = undefined;
      })),
  };
  running = handle;
  return handle;
}

/** The SDK running in this process, if any. */
export const runningTracing = (): Tracing | undefined => running;

/**
 * The SDK settings in a config file: the options of its `@waygate/tracing` entry (an entry with
 * `enabled: false` turns traces off). Undefined when there is no file or no such entry; a file that
 * does not load is left for the gateway's start-up to report.
 */
export async function tracingSettingsOf(configFile: string | undefined, env: Env = process.env): Promise<TracingSettings | undefined> {
  if (!configFile) return undefined;
  let plugins: unknown[];
  try {
    plugins = (await loadConfigFile(configFile, env)).config.plugins;
  } catch {
    return undefined;
  }
  for (const entry of plugins) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as { module: string; options?: unknown; enabled?: boolean };
    if (e.module !== '@waygate/tracing') continue;
    const o = (typeof e.options === 'object' && e.options !== null ? e.options : {}) as Record<string, unknown>;
    const out: TracingSettings = {};
    if (e.enabled === false) out.enabled = false;
    else if (typeof o.enabled === 'boolean') out.enabled = o.enabled;
    if (typeof o.endpoint === 'string') out.endpoint = o.endpoint;
    if (typeof o.serviceName === 'string' && o.serviceName) out.serviceName = o.serviceName;
    if (typeof o.sampleRatio === 'number' && o.sampleRatio >= 0 && o.sampleRatio <= 1) out.sampleRatio = o.sampleRatio;
    if (typeof o.headers === 'object' && o.headers !== null && Object.values(o.headers).every((v) => typeof v === 'string')) {
      out.headers = o.headers as Record<string, string>;
    }
    return out;
  }
  return undefined;
}

/**
 * What the CLI runs before the gateway loads: the config file's settings over the environment.
 * Shutting the SDK down is bounded (`ms`): a collector that does not answer does not hold the exit.
 */
export async function startCliTracing(
  configFile: string | undefined,
  env: Env = process.env,
): Promise<{ readonly exporters: readonly string[]; stop(ms?: number): Promise<void> } | undefined> {
  const tracing = startTracing({ settings: (await tracingSettingsOf(configFile, env)) ?? {}, env });
  if (!tracing) return undefined;
  return {
    exporters: tracing.exporters,
    stop: (ms = 5000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          warn(`the OpenTelemetry SDK did not flush within ${ms} ms (is the collector answering?); the spans still queued are lost`);
          resolve();
        }, ms);
        timer.unref();
        tracing.shutdown().then(
          () => (clearTimeout(timer), resolve()),
          (err: unknown) => {
            process.stderr.write(`waygate: the OpenTelemetry SDK did not shut down cleanly: ${(err as Error).message}\n`);
            clearTimeout(timer);
            resolve();
          },
        );
      }),
  };
}
