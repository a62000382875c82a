import { expect } from 'chai';
import { SSEParser, parseSSE, serializeSSE } from '../src/sse.js';

describe('SSE parser', () => {
  it('parses data, event and id fields and ignores comments', () => {
    const p = new SSEParser();
    const out = p.push(': keep-alive\nevent: message_start\nid: 7\ndata: {"a":1}\n\ndata: second\n\n');
    expect(out).to.deep.equal([{ event: 'message_start', id: '7', data: '{"a":1}' }, { data: 'second' }]);
  });

  it('joins multi-line data with newlines and accepts CRLF and CR line ends', () => {
    const p = new SSEParser();
    expect(p.push('data: a\r\ndata: b\r\n\r\ndata: c\rdata:d\r\r')).to.deep.equal([{ data: 'a\nb' }, { data: 'c\nd' }]);
  });

  it('handles an event split at any byte, including a CRLF split across chunks', () => {
    const text = 'data: {"x":"héllo"}\r\n\r\nevent: e\r\ndata: [DONE]\r\n\r\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const events: unknown[] = [];
      const decoder = new TextDecoder();
      const p = new SSEParser();
      events.push(...p.push(decoder.decode(bytes.subarray(0, cut), { stream: true })));
      events.push(...p.push(decoder.decode(bytes.subarray(cut), { stream: true })));
      events.push(...p.push(decoder.decode(), true));
      expect(events, `cut at ${cut}`).to.deep.equal([{ data: '{"x":"héllo"}' }, { event: 'e', data: '[DONE]' }]);
    }
  });

  it('flushes a final event that lacks the closing blank line at end of stream', async () => {
    async function* body() {
      yield Buffer.from('data: one\n\ndata: tw');
      yield Buffer.from('o');
    }
    const events = [];
    for await (const ev of parseSSE(body())) events.push(ev);
    expect(events).to.deep.equal([{ data: 'one' }, { data: 'two' }]);
  });

  it('stays linear on a long line that arrives a character at a time (no rescan or copy of what it holds)', () => {
    // Scanning the held text again on every push made this take minutes; it is now one pass.
    const p = new SSEParser();
    const n = 300_000;
    expect(p.push('data: ')).to.deep.equal([]);
    let early = 0;
    for (let i = 0; i < n; i++) early += p.push('x').length;
    const [ev] = p.push('\r\n\r\n');
    expect(early).to.equal(0);
    expect(ev!.data).to.have.length(n);
  });

  it('refuses an event larger than maxEventBytes with a 502 naming the limit, whether it comes in one line, many lines or many chunks', () => {
    const tooBig = (push: (p: SSEParser) => void) => {
      const p = new SSEParser(1000);
      expect(() => push(p))
        .to.throw('upstream answer exceeded upstream.maxEventBytes (1000 bytes)')
        .with.property('status', 502);
    };
    tooBig((p) => p.push(`data: ${'a'.repeat(1000)}`));
    tooBig((p) => p.push(`data: ${'a'.repeat(1000)}\n\n`));
    tooBig((p) => {
      for (let i = 0; i < 30; i++) p.push(`data: ${'b'.repeat(40)}\n`);
    });
    tooBig((p) => {
      for (let i = 0; i < 1001; i++) p.push('c');
    });
  });

  it('counts maxEventBytes per event: any number of events under it pass', () => {
    const p = new SSEParser(100);
    let n = 0;
    for (let i = 0; i < 1000; i++) n += p.push(`data: ${'d'.repeat(80)}\n\n`).length;
    expect(n).to.equal(1000);
  });

  it('serializes single- and multi-line events', () => {
    expect(serializeSSE({ data: '{"a":1}' })).to.equal('data: {"a":1}\n\n');
    expect(serializeSSE({ event: 'ping', data: 'a\nb' })).to.equal('event: ping\ndata: a\ndata: b\n\n');
  });
});
