/**
 * The CLI's span processor for OTLP/HTTP protobuf: the SDK's batching rules (`OTEL_BSP_*`: queue
 * size, batch size, delay, export timeout; one export at a time; spans past a full queue dropped and
 * counted), but each span is encoded when it ends (./otlp-proto.ts) rather than held as an object
 * until its batch goes. The exporter is the SDK's OTLP/HTTP transport (URL, headers, timeout,
 * compression, retries), given the encoded batch.
 */
import { TraceFlags, context, diag } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanBatch } from './otlp-proto.js';

/** Where batches go: an `OTLPExporterBase<SpanBatch>` in the CLI, anything with the same two calls in tests. */
export interface BatchExporter {
  export(batch: SpanBatch, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

export interface BatchOptions {
  /** Spans held (encoded, not yet sent) at most; past it, new spans are dropped. */
  maxQueueSize: number;
  /** Spans a batch holds; a full batch goes at once. */
  maxExportBatchSize: number;
  /** How long a batch that is not full waits before it goes. */
  scheduledDelayMillis: number;
  /** How long an export may take before the next batch goes (the late one is reported as failed). */
  exportTimeoutMillis: number;
}

/** A whole number of at least `min` from the environment; anything else is said on the SDK's log and left for the default. */
function whole(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min) return n;
  diag.warn(`${name}=${raw} is not a whole number of at least ${min}; the default is used`);
  return undefined;
}

/** The `OTEL_BSP_*` settings, with the specification's defaults (2048, 512, 5000 ms, 30000 ms); a batch is never larger than the queue. */
export function batchOptionsFromEnv(env: NodeJS.ProcessEnv): BatchOptions {
  const maxQueueSize = whole(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1) ?? 2048;
  let maxExportBatchSize = whole(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1) ?? 512;
  if (maxExportBatchSize > maxQueueSize) {
    diag.warn('OTEL_BSP_MAX_EXPORT_BATCH_SIZE is larger than OTEL_BSP_MAX_QUEUE_SIZE; batches hold the queue size');
    maxExportBatchSize = maxQueueSize;
  }
  return {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: whole(env, 'OTEL_BSP_SCHEDULE_DELAY', 0) ?? 5000,
    exportTimeoutMillis: whole(env, 'OTEL_BSP_EXPORT_TIMEOUT', 0) ?? 30000,
  };
}

export class EncodingSpanProcessor implements SpanProcessor {
  readonly #exporter: BatchExporter;
  readonly #options: BatchOptions;
  #open = new SpanBatch();
  readonly #ready: SpanBatch[] = [];
  /** Spans in the open batch and the ready ones, including the one being sent. */
  #held = 0;
  #exporting = false;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  #stopped: Promise<void> | undefined;
  readonly #idle: Array<() => void> = [];

  constructor(exporter: BatchExporter, options: BatchOptions) {
    this.#exporter = exporter;
    this.#options = options;
  }

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#held >= this.#options.maxQueueSize) {
      if (this.#dropped++ === 0) diag.debug('maxQueueSize reached, dropping spans');
      return;
    }
    if (this.#dropped > 0) {
      diag.warn(`Dropped ${this.#dropped} spans because maxQueueSize reached`);
      this.#dropped = 0;
    }
    this.#open.add(span);
    this.#held++;
    if (this.#open.count >= this.#options.maxExportBatchSize) {
      this.#seal();
      this.#next();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#seal();
        this.#next();
      }, this.#options.scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Sends every span ended so far; resolves when the last batch is answered (or timed out). */
  forceFlush(): Promise<void> {
    this.#seal();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#next();
    });
  }

  shutdown(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const flushed = this.forceFlush();
    this.#stopped = flushed.then(() => this.#exporter.shutdown());
    return this.#stopped;
  }

  /** The open batch joins the ready ones. */
  #seal(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#open.count === 0) return;
    this.#ready.push(this.#open);
    this.#open = new SpanBatch();
  }

  /** Sends the next ready batch unless one is on its way; with none left, wakes those flushing. */
  #next(): void {
    if (this.#exporting) return;
    const batch = this.#ready.shift();
    if (!batch) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#exporting = true;
    let answered = false;
    const timer = setTimeout(() => done({ code: ExportResultCode.FAILED, error: new Error('Timeout') }), this.#options.exportTimeoutMillis);
    timer.unref();
    const done = (result: ExportResult): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      this.#held -= batch.count;
      this.#exporting = false;
      if (result.code !== ExportResultCode.SUCCESS) globalErrorHandler(result.error ?? new Error('span export failed'));
      this.#next();
    };
    const send = (): void => context.with(suppressTracing(context.active()), () => this.#exporter.export(batch, done));
    const pending = batch.pending();
    if (pending.length === 0) send();
    else
      Promise.all(pending).then(send, (err: unknown) => {
        globalErrorHandler(err as Error);
        done({ code: ExportResultCode.FAILED, error: err as Error });
      });
  }
}
