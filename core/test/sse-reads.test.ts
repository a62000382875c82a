import { expect } from 'chai';
import { SSEParser, parseSSE } from '../src/sse.js';
import type { SSEEvent } from '../src/types.js';

/** What parseSSE must give: a streaming TextDecoder's text, fed to the parser chunk by chunk. */
function reference(chunks: Uint8Array[]): SSEEvent[] {
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  const out: SSEEvent[] = [];
  for (const c of chunks) out.push(...parser.push(decoder.decode(c, { stream: true })));
  out.push(...parser.push(decoder.decode(), true));
  return out;
}

async function* bodyOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

async function read(events: AsyncIterable<SSEEvent>): Promise<SSEEvent[]> {
  const out: SSEEvent[] = [];
  for await (const ev of events) out.push(ev);
  return out;
}

/** Every way to cut `bytes` into two or three chunks (empty chunks included). */
function* splits(bytes: Buffer): Generator<Buffer[]> {
  for (let a = 0; a <= bytes.length; a++) {
    yield [bytes.subarray(0, a), bytes.subarray(a)];
    for (let b = a; b <= bytes.length; b += 3) yield [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
  }
}

describe('parseSSE: reading a byte stream', () => {
  const wires: Record<string, Buffer> = {
    'multi-byte characters': Buffer.from('data: h\u00e9llo \u20ac \u{1f600}\n\nevent: e\r\ndata: [DONE]\r\n\r\n'),
    'a byte order mark opening the stream (dropped), and one inside it (kept)': Buffer.from('\ufeffdata: a\n\ndata: \ufeffb\n\n'),
    'bytes that are not UTF-8, and a character cut off at the end': Buffer.concat([
      Buffer.from('data: '),
      Buffer.from([0xff, 0x80, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f]),
      Buffer.from('\n\ndata: x'),
      Buffer.from([0xe2, 0x82]),
    ]),
  };
  for (const [what, bytes] of Object.entries(wires)) {
    it(`decodes as a streaming TextDecoder does, however the reads split the bytes: ${what}`, async () => {
      for (const chunks of splits(bytes)) {
        const cuts = chunks.map((c) => c.length).join('+');
        expect(await read(parseSSE(bodyOf(chunks))), `chunks of ${cuts} bytes`).to.deep.equal(reference(chunks));
      }
    });
  }

  it('hands out every event of one read, in order, then ends for good', async () => {
    const it = parseSSE(bodyOf([Buffer.from('data: 1\n\ndata: 2\n\ndata: 3\n\n')]));
    const got = [await it.next(), await it.next(), await it.next(), await it.next(), await it.next()];
    expect(got).to.deep.equal([
      { value: { data: '1' }, done: false },
      { value: { data: '2' }, done: false },
      { value: { data: '3' }, done: false },
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
  });

  it('hands text chunks to the parser as they are: a U+FEFF opening them is not a byte order mark there', async () => {
    async function* text(): AsyncGenerator<string> {
      yield '\ufeffdata: a\n\n';
      yield 'data: b\n\n';
    }
    // The first line's field is "\ufeffdata", which the parser ignores, as it always did for text.
    expect(await read(parseSSE(text()))).to.deep.equal([{ data: 'b' }]);
  });

  it("rejects with the body's read error, once: the stream has ended after it", async () => {
    const failure = new Error('connection reset');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('data: a\n\n');
      throw failure;
    }
    const it = parseSSE(failing());
    expect(await it.next()).to.deep.equal({ value: { data: 'a' }, done: false });
    let thrown: unknown;
    await it.next().catch((err: unknown) => (thrown = err));
    expect(thrown).to.equal(failure);
    expect(await it.next()).to.deep.equal({ value: undefined, done: true });
  });

  it('closes the body when the reader stops early', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield Buffer.from('data: tick\n\n');
      } finally {
        closed = true;
      }
    }
    for await (const ev of parseSSE(endless())) {
      expect(ev).to.deep.equal({ data: 'tick' });
      break;
    }
    expect(closed).to.equal(true);
  });
});
