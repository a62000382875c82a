// The AWS event-stream decoder: whole frames, frames split at every byte boundary, and CRC failures.
import assert from 'node:assert/strict';
import { EventStreamDecoder, EventStreamError, crc32, decodeEventStream, encodeEvent, encodeException, encodeMessage } from '../src/eventstream.js';
import { crc32Table } from '../src/eventstream.js';

const utf8 = new TextDecoder();
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

const FRAMES = [
  encodeEvent('messageStart', { role: 'assistant' }),
  encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello, wörld!' } }),
  encodeEvent('messageStop', { stopReason: 'end_turn' }),
];

describe('AWS event-stream decoder', () => {
  it('computes CRC-32 as zlib does (and the table fallback agrees)', () => {
    const s = new TextEncoder().encode('123456789');
    assert.equal(crc32(s), 0xcbf43926);
    assert.equal(crc32Table(s), 0xcbf43926);
  });

  it('decodes a known frame from the AWS docs layout (empty payload, no headers)', () => {
    // Minimal message: 16 bytes: total 16, headers 0, prelude CRC, message CRC.
    const m = encodeMessage({}, '');
    assert.equal(m.length, 16);
    const got = new EventStreamDecoder().push(m);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.headers, {});
    assert.equal(got[0]!.payload.length, 0);
  });

  it('decodes frames with their string headers and payloads', () => {
    const msgs = new EventStreamDecoder().push(concat(FRAMES));
    assert.equal(msgs.length, 3);
    assert.equal(msgs[1]!.headers[':event-type'], 'contentBlockDelta');
    assert.equal(msgs[1]!.headers[':message-type'], 'event');
    assert.deepEqual(JSON.parse(utf8.decode(msgs[1]!.payload)), { contentBlockIndex: 0, delta: { text: 'Hello, wörld!' } });
  });

  it('gives the same messages however the bytes are split (every boundary)', () => {
    const all = concat(FRAMES);
    const want = new EventStreamDecoder().push(all);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new EventStreamDecoder();
      const got = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      d.end();
      assert.deepEqual(got, want, `split at ${cut}`);
    }
    const d = new EventStreamDecoder();
    const got = [...all].flatMap((b) => d.push(Uint8Array.of(b)));
    assert.deepEqual(got, want, 'one byte at a time');
  });

  it('yields one SSE event per frame, exceptions named exception:<type>', async () => {
    async function* body() {
      yield concat(FRAMES.slice(0, 2));
      yield encodeException('throttlingException', { message: 'Too many requests' });
    }
    const evs = [];
    for await (const e of decodeEventStream(body())) evs.push(e);
    assert.deepEqual(
      evs.map((e) => e.event),
      ['messageStart', 'contentBlockDelta', 'exception:throttlingException'],
    );
    assert.equal(JSON.parse(evs[2]!.data).message, 'Too many requests');
  });

  it('rejects a bad prelude CRC', () => {
    const f = FRAMES[0]!.slice();
    f[8] = f[8]! ^ 0xff;
    assert.throws(
      () => new EventStreamDecoder().push(f),
      (e: unknown) => e instanceof EventStreamError && /prelude CRC/.test(e.message),
    );
  });

  it('rejects a bad message CRC (a flipped payload byte)', () => {
    const f = FRAMES[1]!.slice();
    f[f.length - 10] = f[f.length - 10]! ^ 0x01;
    assert.throws(
      () => new EventStreamDecoder().push(f),
      (e: unknown) => e instanceof EventStreamError && /message CRC/.test(e.message),
    );
  });

  it('rejects a stream that ends inside a message', async () => {
    async function* body() {
      yield FRAMES[0]!.subarray(0, 20);
    }
    await assert.rejects(async () => {
      for await (const _ of decodeEventStream(body())) void _;
    }, /ended inside a message/);
  });
});
