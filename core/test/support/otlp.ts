// opentelemetry-proto's ExportTraceServiceRequest as the SDK's own generated (protobufjs) code reads
// it: the reference decoder for the CLI's protobuf encoder.
import { createRequire } from 'node:module';

interface Message {
  decode(bytes: Uint8Array): unknown;
  toObject(m: unknown, o: object): Record<string, unknown>;
}
const root = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Message } } } } };
};
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** The request as plain objects: int64s as strings, ids as base64, every default field present. */
export const decoded = (bytes: Uint8Array): Record<string, unknown> =>
  Request.toObject(Request.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: true, arrays: true, objects: true });

/** The names of the spans in a request, in order. */
export function decodeNames(bytes: Uint8Array): string[] {
  const req = decoded(bytes) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }> };
  return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name)));
}
