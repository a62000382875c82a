import zlib from 'node:zlib';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { SSEEvent } from '@waygate/core';

/**
 * The AWS event-stream binary framing (application/vnd.amazon.eventstream):
 *
 *   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (u32 BE, over the first 8 bytes)
 *   headers | payload | message CRC32 (u32 BE, over everything before it)
 *
 * Each header: name length (u8), name (UTF-8), value type (u8), value.
 */

export type HeaderValue = string | number | boolean | bigint | Uint8Array | Date;

export interface EventStreamMessage {
  headers: Record<string, HeaderValue>;
  payload: Uint8Array;
}

export class EventStreamError extends Error {
  override readonly name = 'EventStreamError';
}

const PRELUDE = 12;
const MIN_MESSAGE = 16;
/** AWS caps a message at 16 MiB (and headers at 128 KiB). */
export const MAX_MESSAGE = 16 * 1024 * 1024;
const MAX_HEADERS = 128 * 1024;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const nativeCrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;

/** CRC-32 (IEEE), zlib's when Node has it (≥ 20.15), else a table-driven one. */
export function crc32(data: Uint8Array): number {
  return nativeCrc ? nativeCrc(data) >>> 0 : crc32Table(data);
}
export { crc32Table };

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8enc = new TextEncoder();

function parseHeaders(b: Uint8Array): Record<string, HeaderValue> {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Record<string, HeaderValue> = {};
  let i = 0;
  const need = (n: number) => {
    if (i + n > b.length) throw new EventStreamError('event-stream header runs past its section');
  };
  while (i < b.length) {
    need(1);
    const nameLen = b[i++]!;
    need(nameLen + 1);
    const name = utf8.decode(b.subarray(i, i + nameLen));
    i += nameLen;
    const type = b[i++]!;
    let value: HeaderValue;
    switch (type) {
      case 0:
        value = true;
        break;
      case 1:
        value = false;
        break;
      case 2:
        need(1);
        value = view.getInt8(i);
        i += 1;
        break;
      case 3:
        need(2);
        value = view.getInt16(i);
        i += 2;
        break;
      case 4:
        need(4);
        value = view.getInt32(i);
        i += 4;
        break;
      case 5:
        need(8);
        value = view.getBigInt64(i);
        i += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const len = view.getUint16(i);
        i += 2;
        need(len);
        const raw = b.slice(i, i + len);
        value = type === 7 ? utf8.decode(raw) : raw;
        i += len;
        break;
      }
      case 8:
        need(8);
        value = new Date(Number(view.getBigInt64(i)));
        i += 8;
        break;
      case 9:
        need(16);
        value = b.slice(i, i + 16);
        i += 16;
        break;
      default:
        throw new EventStreamError(`event-stream header ${JSON.stringify(name)} has unknown type ${type}`);
    }
    out[name] = value;
  }
  return out;
}

/** Incremental decoder: push bytes as they arrive, get whole messages back. Bad lengths or CRCs throw. */
export class EventStreamDecoder {
  #buf: Uint8Array = new Uint8Array(0);

  push(chunk: Uint8Array): EventStreamMessage[] {
    if (chunk.length) {
      const next = new Uint8Array(this.#buf.length + chunk.length);
      next.set(this.#buf, 0);
      next.set(chunk, this.#buf.length);
      this.#buf = next;
    }
    const out: EventStreamMessage[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < PRELUDE) break;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const total = view.getUint32(0);
      const headersLen = view.getUint32(4);
      const preludeCrc = view.getUint32(8);
      if (crc32(b.subarray(0, 8)) !== preludeCrc) throw new EventStreamError('event-stream prelude CRC mismatch');
      if (total < MIN_MESSAGE || total > MAX_MESSAGE) throw new EventStreamError(`event-stream message length ${total} out of range`);
      if (headersLen > MAX_HEADERS || PRELUDE + headersLen + 4 > total)
        throw new EventStreamError(`event-stream headers length ${headersLen} out of range`);
      if (b.length < total) break;
      const msgCrc = view.getUint32(total - 4);
      if (crc32(b.subarray(0, total - 4)) !== msgCrc) throw new EventStreamError('event-stream message CRC mismatch');
      const headers = parseHeaders(b.subarray(PRELUDE, PRELUDE + headersLen));
      const payload = b.slice(PRELUDE + headersLen, total - 4);
      out.push({ headers, payload });
      this.#buf = b.subarray(total);
    }
    return out;
  }

  /** Call at the end of the body: leftover bytes are a truncated message. */
  end(): void {
    if (this.#buf.length) throw new EventStreamError(`event-stream ended inside a message (${this.#buf.length} bytes left)`);
  }
}

/** Encodes one message (string headers only, which is all Bedrock sends); for tests and fixtures. */
export function encodeMessage(headers: Record<string, string>, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? utf8enc.encode(payload) : payload;
  const hparts: number[] = [];
  for (const [k, v] of Object.entries(headers)) {
    const name = utf8enc.encode(k);
    const val = utf8enc.encode(v);
    hparts.push(name.length, ...name, 7, (val.length >> 8) & 0xff, val.length & 0xff, ...val);
  }
  const total = PRELUDE + hparts.length + body.length + 4;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, hparts.length);
  view.setUint32(8, crc32(out.subarray(0, 8)));
  out.set(hparts, PRELUDE);
  out.set(body, PRELUDE + hparts.length);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

/** A Bedrock event frame: `:message-type` event with `:event-type`, JSON payload. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return encodeMessage({ ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify(payload));
}

/** A Bedrock exception frame: `:message-type` exception with `:exception-type`. */
export function encodeException(exceptionType: string, payload: unknown): Uint8Array {
  return encodeMessage({ ':exception-type': exceptionType, ':content-type': 'application/json', ':message-type': 'exception' }, JSON.stringify(payload));
}

/**
 * Decodes an event-stream body into one SSEEvent per message (a corrupt frame throws a retryable 502 GatewayError): `event` is the `:event-type` (for
 * events) or `exception:<:exception-type>` (for exceptions and errors), `data` the payload text.
 */
export async function* decodeEventStream(body: AsyncIterable<Uint8Array>): AsyncIterable<SSEEvent> {
  const dec = new EventStreamDecoder();
  try {
    for await (const chunk of body) {
      for (const m of dec.push(chunk)) yield toEvent(m);
    }
    dec.end();
  } catch (err) {
    if (!(err instanceof EventStreamError)) throw err;
    // A corrupt frame (bad length or CRC) is a bad upstream answer: retryable while nothing reached the client.
    throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `bedrock sent a malformed event stream: ${err.message}`, { retryable: true, cause: err });
  }
}

function toEvent(m: EventStreamMessage): SSEEvent {
  const kind = m.headers[':message-type'];
  const data = utf8.decode(m.payload);
  if (kind === 'exception') return { event: `exception:${String(m.headers[':exception-type'] ?? 'unknownException')}`, data };
  if (kind === 'error') {
    const msg = m.headers[':error-message'];
    return {
      event: `exception:${String(m.headers[':error-code'] ?? 'internalServerException')}`,
      data: data || JSON.stringify({ message: String(msg ?? 'error') }),
    };
  }
  return { event: String(m.headers[':event-type'] ?? 'unknown'), data };
}
