import { expect } from 'chai';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { SpanBatch, SpanBatchSerializer, encodeSpans } from '../bin/otlp-proto.js';
import { decoded } from './support/otlp.js';

/** Ended spans made by the SDK itself, with every field the encoder writes. */
function makeSpans(resourceAttrs: Attributes, run: (provider: BasicTracerProvider) => void): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes(resourceAttrs), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  run(provider);
  return exporter.getFinishedSpans();
}

describe('OTLP protobuf span encoder (core/bin/otlp-proto.ts)', () => {
  const long = 'ü'.repeat(50) + 'x'.repeat(300);
  const spans = makeSpans({ 'service.name': 'waygate', 'process.pid': 4242, 'host.arch': 'amd64' }, (provider) => {
    const t = provider.getTracer('@waygate/tracing', '1.2.3');
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=a,other=b'),
    });
    const server = t.startSpan(
      'chat gpt-4o-mini',
      {
        kind: SpanKind.SERVER,
        startTime: [1_765_000_000, 123_456_789],
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.max_tokens': 64,
          'gen_ai.request.temperature': 0.25,
          'waygate.stream': true,
          'waygate.flag.off': false,
          'waygate.negative': -42,
          'waygate.big': 2 ** 40 + 3,
          'waygate.huge': 2 ** 60,
          'waygate.unicode': 'naïve 日本語 🚀',
          'waygate.long': long,
          'gen_ai.response.finish_reasons': ['stop', 'length'],
          'waygate.numbers': [1, 2.5, -3],
          'waygate.empty': '',
        },
        links: [
          { context: { traceId: 'f'.repeat(32), spanId: 'e'.repeat(16), traceFlags: TraceFlags.NONE, isRemote: false }, attributes: { why: 'retry' } },
        ],
      },
      remote,
    );
    server.addEvent('first token', { 'waygate.ttft_ms': 12.5 }, [1_765_000_000, 223_456_789]);
    server.addEvent('bare', undefined, [1_765_000_001, 0]);
    server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream_timeout' });
    const client = t.startSpan(
      'chat gpt-4o-mini',
      { kind: SpanKind.CLIENT, startTime: [1_765_000_000, 200_000_000] },
      trace.setSpan(ROOT_CONTEXT, server),
    );
    client.end([1_765_000_000, 900_000_000]);
    server.end([1_765_000_002, 999_999_999]);
    const other = provider.getTracer('another-scope');
    const internal = other.startSpan('internal', { startTime: [0, 1] });
    internal.setStatus({ code: SpanStatusCode.OK });
    internal.end([4_294_967_296, 5]);
  });

  it('writes what the SDK’s own serializer writes: same messages, field by field, as the reference decoder reads them', () => {
    expect(spans).to.have.length(3);
    const ours = decoded(encodeSpans(spans));
    const theirs = decoded(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(ours).to.deep.equal(theirs);
    // And it is not an empty agreement: the fields are there.
    const rs = (
      ours.resourceSpans as Array<{ scopeSpans: Array<{ scope: { name: string; version: string }; spans: Array<Record<string, unknown>> }> }>
    )[0]!;
    expect(rs.scopeSpans.map((s) => s.scope.name)).to.deep.equal(['@waygate/tracing', 'another-scope']);
    const server = rs.scopeSpans[0]!.spans.find((s) => s.kind === 2)!;
    expect(server.traceState).to.equal('vendor=a,other=b');
    expect(server.startTimeUnixNano).to.equal('1765000000123456789');
    expect(server.flags).to.equal(0x301);
    expect((server.events as unknown[]).length).to.equal(2);
    const internal = rs.scopeSpans[1]!.spans[0]!;
    expect(internal.endTimeUnixNano).to.equal('4294967296000000005');
  });

  it('nanosecond times are exact past 2^53 (split in 32-bit halves, no rounding)', () => {
    const times: Array<[number, number]> = [
      [0, 0],
      [1, 999_999_999],
      [65_535, 999_999_999],
      [65_536, 0],
      [1_765_000_000, 123_456_789],
      [4_294_967_295, 999_999_999],
      [9_000_000_000, 1],
    ];
    const made = makeSpans({}, (provider) => {
      const t = provider.getTracer('times');
      for (const at of times) t.startSpan('t', { startTime: at }).end(at);
    });
    const out = decoded(encodeSpans(made)) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ startTimeUnixNano: string }> }> }> };
    const got = out.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.startTimeUnixNano);
    expect(got).to.deep.equal(times.map(([s, ns]) => (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString()));
  });

  it('a batch bigger than its first buffer, and messages longer than one length byte, still decode', () => {
    const made = makeSpans({ 'service.name': 'x' }, (provider) => {
      const t = provider.getTracer('many');
      for (let i = 0; i < 600; i++) t.startSpan(`span ${i}`, { attributes: { i, text: 'y'.repeat(i) } }).end();
    });
    const batch = new SpanBatch();
    for (const s of made) batch.add(s);
    expect(batch.count).to.equal(600);
    const bytes = SpanBatchSerializer.serializeRequest(batch)!;
    expect(decoded(bytes)).to.deep.equal(decoded(ProtobufTraceSerializer.serializeRequest(made)!));
    expect(bytes.length).to.be.above(180_000);
  });

  it('an integer past int64 goes as a double; negative integers as ten-byte int64s', () => {
    const made = makeSpans({}, (provider) =>
      provider
        .getTracer('ints')
        .startSpan('n', { attributes: { past: 2 ** 70, neg: -1 } })
        .end(),
    );
    const out = decoded(encodeSpans(made)) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ attributes: Array<{ key: string; value: Record<string, unknown> }> }> }> }>;
    };
    const values = Object.fromEntries(out.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.map((a) => [a.key, a.value]));
    expect(values.past).to.include({ doubleValue: 2 ** 70 });
    expect(values.neg).to.include({ intValue: '-1' });
  });

  it('reads the collector’s answer (partial success) with the SDK’s decoder', () => {
    // ExportTraceServiceResponse { partial_success (1) { rejected_spans (1): 3, error_message (2): "busy" } }
    const answer = Uint8Array.from([0x0a, 8, 0x08, 3, 0x12, 4, ...Buffer.from('busy')]);
    const read = SpanBatchSerializer.deserializeResponse(answer) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: string } };
    expect(Number(read.partialSuccess?.rejectedSpans)).to.equal(3);
    expect(read.partialSuccess?.errorMessage).to.equal('busy');
  });
});
