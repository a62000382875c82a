/**
 * The spans of an OTLP/HTTP export in protobuf (`ExportTraceServiceRequest` of opentelemetry-proto's
 * collector/trace/v1), written straight from the SDK's ended spans into one growing buffer.
 *
 * Why not the SDK's own serializer: it first builds the OTLP object tree (a `{ key, value: {
 * stringValue } }` object per attribute, hex turned into byte arrays, times into long bits), then
 * protobufjs walks that tree. At sampling 1.0 that is most of what a trace costs the gateway (about
 * 7 µs a span against 1 to 2 here, measured with the benchmark's two spans a request). The
 * transport (URL, headers, timeout, compression, retries) stays the SDK's: this is only the
 * `serializeRequest` of its exporter; answers are read by the SDK's own decoder.
 *
 * Field numbers are those of trace.proto, common.proto and resource.proto (opentelemetry-proto
 * v1); values are mapped as the SDK maps them (an integer number is an `int_value`, any other a
 * `double_value`; arrays and plain objects nest), except that an integer too large for an int64
 * (2^63 or more) is sent as a double rather than wrapped.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
const key = (field: number, wire: number): number => (field << 3) | wire;

/** OTLP's span flags: the W3C trace flags, and whether the parent's remoteness is known and true. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

const TWO_32 = 4294967296;
/** Texts up to this many UTF-16 units have their UTF-8 kept (in SHORT, up to SHORT_KEPT of them). */
const SHORT_CHARS = 32;
const SHORT_KEPT = 2048;
const SHORT = new Map<string, Uint8Array>();
/** Integers from here on do not fit an int64: sent as doubles. */
const INT64_LIMIT = 2 ** 63;

/** A protobuf writer over one buffer that grows; nested messages are written in place and their lengths filled in after. */
class Writer {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  /** An unsigned varint below 2^53. */
  varint(v: number): void {
    this.room(10);
    const b = this.buf;
    let at = this.at;
    while (v >= 0x80) {
      b[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[at++] = v;
    this.at = at;
  }

  /** An int64 that is negative or past 2^53 (an integer-valued number), its two's complement as a varint. */
  int64(v: number): void {
    this.room(10);
    let u = BigInt.asUintN(64, BigInt(v));
    while (u >= 0x80n) {
      this.buf[this.at++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.at++] = Number(u);
  }

  fixed32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
  }

  double(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  /** Nanoseconds since the epoch, a fixed64, from an HrTime without a BigInt: sec·10⁹ + ns split in 32-bit halves. */
  time(t: HrTime): void {
    const sec = Math.trunc(t[0]);
    const ns = Math.trunc(t[1]);
    const high = Math.floor(sec / 65536) * 1e9; // total = high·2^16 + low
    const low = (sec % 65536) * 1e9 + ns;
    const mid = (high % 65536) * 65536 + low; // below 2^47: exact
    this.room(8);
    this.buf.writeUInt32LE(mid % TWO_32, this.at);
    this.buf.writeUInt32LE(Math.floor(high / 65536) + Math.floor(mid / TWO_32), this.at + 4);
    this.at += 8;
  }

  string(field: number, s: string): void {
    // Short texts (attribute keys, methods, paths, models, providers) repeat from span to span: their
    // UTF-8 is looked up, not encoded again. The first SHORT_KEPT distinct ones are kept, no more.
    if (s.length <= SHORT_CHARS) {
      let bytes = SHORT.get(s);
      if (bytes === undefined) {
        bytes = Buffer.from(s, 'utf8');
        if (SHORT.size < SHORT_KEPT) SHORT.set(s, bytes);
      }
      const n = bytes.length; // at most 96: a one-byte length
      this.room(2 + n);
      const b = this.buf;
      let at = this.at;
      b[at++] = key(field, LEN); // the fields written here are all below 16: a one-byte key
      b[at++] = n;
      for (let i = 0; i < n; i++) b[at + i] = bytes[i]!;
      this.at = at + n;
      return;
    }
    this.varint(key(field, LEN));
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.room(n);
    this.buf.write(s, this.at, n, 'utf8');
    this.at += n;
  }

  /** A span or trace id, given in hex, as its bytes. */
  id(field: number, hex: string): void {
    this.varint(key(field, LEN));
    const n = hex.length >> 1;
    this.varint(n);
    this.room(n);
    this.at += this.buf.write(hex, this.at, n, 'hex');
  }

  /** Starts a nested message: its key, and one byte kept for its length. Returns where its content starts. */
  open(field: number): number {
    this.varint(key(field, LEN));
    this.room(1);
    this.at += 1;
    return this.at;
  }

  /** Ends the message `open()` started: its length written before it, the content moved on when the length takes more than the one byte kept. */
  close(start: number): void {
    const len = this.at - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.room(extra);
    this.buf.copyWithin(start + extra, start, this.at);
    let at = start - 1;
    let v = len;
    while (v >= 0x80) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
    this.at += extra;
  }

  /** The first `n` bytes of `src`, as they are (messages encoded elsewhere). */
  bytes(src: Uint8Array, n: number): void {
    this.room(n);
    this.buf.set(src.subarray(0, n), this.at);
    this.at += n;
  }

  done(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.at);
  }
}

/** An `AnyValue`'s fields (inside the message `w` has open). */
function anyValue(w: Writer, v: unknown): void {
  switch (typeof v) {
    case 'string':
      w.string(1, v);
      return;
    case 'boolean':
      w.varint(key(2, VARINT));
      w.varint(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v) && Math.abs(v) < INT64_LIMIT) {
        w.varint(key(3, VARINT));
        if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) w.varint(v);
        else w.int64(v);
      } else {
        w.varint(key(4, I64));
        w.double(v);
      }
      return;
    case 'object': {
      if (v === null) return;
      if (v instanceof Uint8Array) {
        w.varint(key(7, LEN));
        w.varint(v.length);
        w.room(v.length);
        w.buf.set(v, w.at);
        w.at += v.length;
        return;
      }
      if (Array.isArray(v)) {
        const list = w.open(5);
        for (const item of v) {
          const one = w.open(1);
          anyValue(w, item);
          w.close(one);
        }
        w.close(list);
        return;
      }
      const list = w.open(6);
      keyValues(w, 1, v as Record<string, unknown>);
      w.close(list);
      return;
    }
    default:
      // undefined, a function, a symbol: an empty AnyValue, as the SDK's serializer sends.
      return;
  }
}

/** Each own key of `attrs` as a `KeyValue` in `field`. */
function keyValues(w: Writer, field: number, attrs: Attributes | Record<string, unknown>): void {
  for (const k of Object.keys(attrs)) {
    const kv = w.open(field);
    w.string(1, k);
    const value = w.open(2);
    anyValue(w, (attrs as Record<string, AttributeValue | unknown>)[k]);
    w.close(value);
    w.close(kv);
  }
}

function count(w: Writer, field: number, n: number | undefined): void {
  if (!n) return;
  w.varint(key(field, VARINT));
  w.varint(n);
}

function span(w: Writer, s: ReadableSpan): void {
  const ctx = s.spanContext();
  const parent = s.parentSpanContext;
  w.id(1, ctx.traceId);
  w.id(2, ctx.spanId);
  const state = ctx.traceState?.serialize();
  if (state) w.string(3, state);
  if (parent?.spanId) w.id(4, parent.spanId);
  w.string(5, s.name);
  // The API's kinds start at INTERNAL = 0; OTLP's at SPAN_KIND_UNSPECIFIED = 0.
  w.varint(key(6, VARINT));
  w.varint(s.kind + 1);
  w.varint(key(7, I64));
  w.time(s.startTime);
  w.varint(key(8, I64));
  w.time(s.endTime);
  keyValues(w, 9, s.attributes);
  count(w, 10, s.droppedAttributesCount);
  for (const e of s.events) {
    const ev = w.open(11);
    w.varint(key(1, I64));
    w.time(e.time);
    w.string(2, e.name);
    if (e.attributes) keyValues(w, 3, e.attributes);
    count(w, 4, e.droppedAttributesCount);
    w.close(ev);
  }
  count(w, 12, s.droppedEventsCount);
  for (const l of s.links) {
    const link = w.open(13);
    w.id(1, l.context.traceId);
    w.id(2, l.context.spanId);
    const linkState = l.context.traceState?.serialize();
    if (linkState) w.string(3, linkState);
    if (l.attributes) keyValues(w, 4, l.attributes);
    count(w, 5, l.droppedAttributesCount);
    w.varint(key(6, I32));
    w.fixed32((l.context.traceFlags & 0xff) | HAS_IS_REMOTE | (l.context.isRemote ? IS_REMOTE : 0));
    w.close(link);
  }
  count(w, 14, s.droppedLinksCount);
  const status = w.open(15);
  if (s.status.message) w.string(2, s.status.message);
  if (s.status.code) {
    w.varint(key(3, VARINT));
    w.varint(s.status.code);
  }
  w.close(status);
  w.varint(key(16, I32));
  w.fixed32((ctx.traceFlags & 0xff) | HAS_IS_REMOTE | (parent?.isRemote ? IS_REMOTE : 0));
}

/** A scope's first buffer (it grows by doubling). */
const SCOPE_BUFFER = 16 * 1024;

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** The Span messages of one instrumentation scope, already encoded. */
interface ScopeSpans {
  scope: Scope;
  spans: Writer;
}

/**
 * Spans encoded as they end, so that none is kept as an object until its batch is sent (held spans
 * outlive young-generation collections and are copied and promoted: at sampling 1.0 that cost more
 * than encoding them). Grouped by resource, then by instrumentation scope (the tracer's own object),
 * as OTLP nests them; `encode()` wraps them in an `ExportTraceServiceRequest`.
 */
export class SpanBatch {
  readonly #resources = new Map<Resource, Map<Scope, ScopeSpans>>();
  /** Spans in the batch. */
  count = 0;

  add(s: ReadableSpan): void {
    let scopes = this.#resources.get(s.resource);
    if (!scopes) this.#resources.set(s.resource, (scopes = new Map()));
    let group = scopes.get(s.instrumentationScope);
    if (!group) scopes.set(s.instrumentationScope, (group = { scope: s.instrumentationScope, spans: new Writer(SCOPE_BUFFER) }));
    const w = group.spans;
    const one = w.open(2);
    span(w, s);
    w.close(one);
    this.count++;
  }

  /** The resources whose attributes are still being detected, to wait for before `encode()`. */
  pending(): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const r of this.#resources.keys()) if (r.asyncAttributesPending && r.waitForAsyncAttributes) out.push(r.waitForAsyncAttributes());
    return out;
  }

  /** The `ExportTraceServiceRequest` of the batch, in protobuf. */
  encode(): Uint8Array {
    let size = 64;
    for (const scopes of this.#resources.values()) for (const g of scopes.values()) size += g.spans.at + 256;
    const w = new Writer(size);
    for (const [resource, scopes] of this.#resources) {
      const rs = w.open(1);
      const res = w.open(1);
      keyValues(w, 1, resource.attributes);
      w.close(res);
      for (const { scope, spans } of scopes.values()) {
        const ss = w.open(2);
        const sc = w.open(1);
        w.string(1, scope.name);
        if (scope.version) w.string(2, scope.version);
        w.close(sc);
        w.bytes(spans.buf, spans.at);
        if (scope.schemaUrl) w.string(3, scope.schemaUrl);
        w.close(ss);
      }
      if (resource.schemaUrl) w.string(3, resource.schemaUrl);
      w.close(rs);
    }
    return w.done();
  }
}

/** The `ExportTraceServiceRequest` of ended spans, in protobuf. */
export function encodeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  const batch = new SpanBatch();
  for (const s of spans) batch.add(s);
  return batch.encode();
}

/** The serializer of the CLI's OTLP/HTTP protobuf exporter: batches encoded here, the collector's answers read by the SDK's decoder. */
export const SpanBatchSerializer: ISerializer<SpanBatch, IExportTraceServiceResponse> = {
  serializeRequest: (batch) => batch.encode(),
  deserializeResponse: (bytes) => ProtobufTraceSerializer.deserializeResponse(bytes),
};
