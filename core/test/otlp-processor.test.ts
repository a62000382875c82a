import { expect } from 'chai';
import { DiagLogLevel, diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { EncodingSpanProcessor, batchOptionsFromEnv } from '../bin/otlp-processor.js';
import type { BatchExporter, BatchOptions } from '../bin/otlp-processor.js';
import type { SpanBatch } from '../bin/otlp-proto.js';
import { decodeNames } from './support/otlp.js';

/** An exporter that records each batch's span names and answers when told (or at once). */
class Recorder implements BatchExporter {
  readonly batches: string[][] = [];
  readonly waiting: Array<(r: ExportResult) => void> = [];
  shutdowns = 0;
  constructor(readonly answerAtOnce = true) {}
  export(batch: SpanBatch, done: (result: ExportResult) => void): void {
    this.batches.push(decodeNames(batch.encode()));
    if (this.answerAtOnce) done({ code: ExportResultCode.SUCCESS });
    else this.waiting.push(done);
  }
  answer(): void {
    this.waiting.shift()!({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
}

const OPTIONS: BatchOptions = { maxQueueSize: 100, maxExportBatchSize: 3, scheduledDelayMillis: 60_000, exportTimeoutMillis: 30_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(exporter: Recorder, options: Partial<BatchOptions> = {}, sampler?: Sampler) {
  const processor = new EncodingSpanProcessor(exporter, { ...OPTIONS, ...options });
  const provider = new BasicTracerProvider({ spanProcessors: [processor], ...(sampler && { sampler }) });
  const tracer = provider.getTracer('test');
  const end = (...names: string[]) => names.forEach((n) => tracer.startSpan(n).end());
  return { processor, end };
}

describe('EncodingSpanProcessor (core/bin/otlp-processor.ts): the batching rules of OTEL_BSP_*, spans encoded as they end', () => {
  it('a full batch goes at once; the rest waits for the delay', async () => {
    const rec = new Recorder();
    const { end } = setup(rec, { scheduledDelayMillis: 30 });
    end('a', 'b', 'c', 'd');
    expect(rec.batches).to.deep.equal([['a', 'b', 'c']]);
    await sleep(80);
    expect(rec.batches).to.deep.equal([['a', 'b', 'c'], ['d']]);
  });

  it('one export at a time: the next batch goes when the last is answered', () => {
    const rec = new Recorder(false);
    const { end } = setup(rec);
    end('a', 'b', 'c', 'd', 'e', 'f', 'g');
    expect(rec.batches).to.deep.equal([['a', 'b', 'c']]);
    rec.answer();
    expect(rec.batches).to.deep.equal([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ]);
    rec.answer();
    expect(rec.batches).to.have.length(2); // g waits for its delay or a flush
  });

  it('past a full queue new spans are dropped and counted on the SDK log; room comes back when a batch is answered', () => {
    const said: string[] = [];
    diag.setLogger({ error: () => {}, warn: (m: string) => void said.push(m), info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    try {
      const rec = new Recorder(false);
      const { end } = setup(rec, { maxQueueSize: 4, maxExportBatchSize: 2 });
      end('a', 'b', 'c', 'd', 'x', 'y');
      expect(rec.batches).to.deep.equal([['a', 'b']]);
      rec.answer();
      end('e');
      expect(said).to.include('Dropped 2 spans because maxQueueSize reached');
      expect(rec.batches).to.deep.equal([
        ['a', 'b'],
        ['c', 'd'],
      ]);
    } finally {
      diag.disable();
    }
  });

  it('forceFlush sends the open batch and resolves once it is answered; shutdown flushes, stops the exporter, then ignores new spans', async () => {
    const rec = new Recorder(false);
    const { processor, end } = setup(rec);
    end('a');
    let flushed = false;
    const flush = processor.forceFlush().then(() => (flushed = true));
    expect(rec.batches).to.deep.equal([['a']]);
    await sleep(5);
    expect(flushed).to.equal(false);
    rec.answer();
    await flush;
    end('b');
    const stop = processor.shutdown();
    rec.answer();
    await stop;
    expect(rec.shutdowns).to.equal(1);
    end('late');
    await processor.forceFlush();
    expect(rec.batches).to.deep.equal([['a'], ['b']]);
    expect(processor.shutdown()).to.equal(stop);
  });

  it('a batch the exporter does not answer in exportTimeoutMillis lets the next one go', async () => {
    const rec = new Recorder(false);
    const { end } = setup(rec, { exportTimeoutMillis: 20 });
    end('a', 'b', 'c', 'd', 'e', 'f');
    expect(rec.batches).to.have.length(1);
    await sleep(60);
    expect(rec.batches).to.deep.equal([
      ['a', 'b', 'c'],
      ['d', 'e', 'f'],
    ]);
  });

  it('spans the sampler dropped are not sent', async () => {
    const rec = new Recorder();
    const { processor, end } = setup(rec, {}, new AlwaysOffSampler());
    end('a', 'b', 'c');
    await processor.forceFlush();
    expect(rec.batches).to.deep.equal([]);
  });

  it('OTEL_BSP_* are read; a wrong value keeps the default; a batch never exceeds the queue', () => {
    expect(batchOptionsFromEnv({})).to.deep.equal({ maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 });
    expect(
      batchOptionsFromEnv({
        OTEL_BSP_MAX_QUEUE_SIZE: '10',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '50',
        OTEL_BSP_SCHEDULE_DELAY: '250',
        OTEL_BSP_EXPORT_TIMEOUT: 'soon',
      }),
    ).to.deep.equal({ maxQueueSize: 10, maxExportBatchSize: 10, scheduledDelayMillis: 250, exportTimeoutMillis: 30000 });
  });
});
