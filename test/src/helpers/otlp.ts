// An OTLP/HTTP traces receiver on loopback that decodes what it gets, in either encoding OTLP/HTTP
// has: JSON (`application/json`) or protobuf (`application/x-protobuf`, read here with a small
// decoder of the protobuf wire format and the field numbers of opentelemetry-proto's trace.proto).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface ResourceSpans {
  resource: { attributes: { key: string; value: OtlpValue }[] };
  scopeSpans: { spans: OtlpSpan[] }[];
}

export const value = (v: OtlpValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue ?? v.arrayValue?.values.map(value)));
export const attrs = (s: OtlpSpan): Record<string, unknown> => Object.fromEntries(s.attributes.map((a) => [a.key, value(a.value)]));

/** The fields of one protobuf message: field number → raw values (varints as bigint, the rest as bytes). */
function fields(buf: Uint8Array): Map<number, Array<bigint | Uint8Array>> {
  const out = new Map<number, Array<bigint | Uint8Array>>();
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('protobuf: varint past the end');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    let v: bigint | Uint8Array;
    if (wire === 0) v = varint();
    else if (wire === 1) v = buf.subarray(at, (at += 8));
    else if (wire === 5) v = buf.subarray(at, (at += 4));
    else if (wire === 2) {
      const n = Number(varint());
      v = buf.subarray(at, (at += n));
    } else throw new Error(`protobuf: wire type ${wire} not expected`);
    if (at > buf.length) throw new Error('protobuf: field past the end');
    const list = out.get(field) ?? [];
    list.push(v);
    out.set(field, list);
  }
  return out;
}
const bytesOf = (m: Map<number, Array<bigint | Uint8Array>>, f: number): Uint8Array[] => (m.get(f) ?? []) as Uint8Array[];
const one = (m: Map<number, Array<bigint | Uint8Array>>, f: number) => m.get(f)?.[0];
const text = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : '');
const hex = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('hex') : '');
const fixed64 = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).readBigUInt64LE(0).toString() : '0');

function anyValue(buf: Uint8Array): OtlpValue {
  const m = fields(buf);
  if (m.has(1)) return { stringValue: text(one(m, 1)) };
  if (m.has(2)) return { boolValue: one(m, 2) === 1n };
  if (m.has(3)) return { intValue: BigInt.asIntN(64, one(m, 3) as bigint).toString() };
  if (m.has(4)) return { doubleValue: Buffer.from(one(m, 4) as Uint8Array).readDoubleLE(0) };
  if (m.has(5)) return { arrayValue: { values: bytesOf(fields(one(m, 5) as Uint8Array), 1).map(anyValue) } };
  return {};
}
function keyValues(list: Uint8Array[]): { key: string; value: OtlpValue }[] {
  return list.map((kv) => {
    const m = fields(kv);
    return { key: text(one(m, 1)), value: m.has(2) ? anyValue(one(m, 2) as Uint8Array) : {} };
  });
}

/** An `ExportTraceServiceRequest` in protobuf, as the JSON encoding's objects. */
export function decodeProtobufTraces(buf: Uint8Array): ResourceSpans[] {
  return bytesOf(fields(buf), 1).map((rsBuf) => {
    const rs = fields(rsBuf);
    const resource = rs.has(1) ? fields(one(rs, 1) as Uint8Array) : new Map();
    return {
      resource: { attributes: keyValues(bytesOf(resource, 1)) },
      scopeSpans: bytesOf(rs, 2).map((ssBuf) => ({
        spans: bytesOf(fields(ssBuf), 2).map((spanBuf): OtlpSpan => {
          const s = fields(spanBuf);
          const parent = hex(one(s, 4));
          const status = s.has(15) ? fields(one(s, 15) as Uint8Array) : undefined;
          return {
            traceId: hex(one(s, 1)),
            spanId: hex(one(s, 2)),
            ...(parent && { parentSpanId: parent }),
            name: text(one(s, 5)),
            kind: Number(one(s, 6) ?? 0n),
            startTimeUnixNano: fixed64(one(s, 7)),
            endTimeUnixNano: fixed64(one(s, 8)),
            attributes: keyValues(bytesOf(s, 9)),
            ...(status && { status: { code: Number(one(status, 3) ?? 0n) } }),
          };
        }),
      })),
    };
  });
}

/** An OTLP/HTTP traces receiver on loopback: every span it was sent, the service names, the content types. */
export class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly services: unknown[] = [];
  readonly resources: Record<string, unknown>[] = [];
  readonly contentTypes: string[] = [];
  readonly headers: http.IncomingHttpHeaders[] = [];
  readonly #waiters = new Set<() => void>();
  private constructor(
    readonly server: http.Server,
    readonly url: string,
  ) {}
  static async start(): Promise<OtlpReceiver> {
    let self!: OtlpReceiver;
    const server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        try {
          let raw = Buffer.concat(parts);
          if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
          const type = String(req.headers['content-type']);
          self.contentTypes.push(type);
          self.headers.push(req.headers);
          const batches = type.includes('protobuf')
            ? decodeProtobufTraces(raw)
            : (JSON.parse(raw.toString('utf8')) as { resourceSpans: ResourceSpans[] }).resourceSpans;
          for (const rs of batches) {
            const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, value(a.value)]));
            self.resources.push(resource);
            self.services.push(resource['service.name']);
            for (const ss of rs.scopeSpans) self.spans.push(...ss.spans);
          }
        } catch (err) {
          res.writeHead(400).end(String(err));
          return;
        }
        res.writeHead(200, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
        // An empty ExportTraceServiceResponse, in either encoding.
        res.end(String(req.headers['content-type']).includes('protobuf') ? Buffer.alloc(0) : '{}');
        for (const w of [...self.#waiters]) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new OtlpReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`);
    return self;
  }
  /** Resolves once `check()` holds (tested after each export), rejects after `ms`. */
  waitFor(check: () => boolean, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const poll = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(poll);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(poll);
        reject(new Error(`the OTLP receiver did not get what was expected within ${ms} ms (${this.spans.length} spans)`));
      }, ms);
      this.#waiters.add(poll);
      poll();
    });
  }
  close = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}
