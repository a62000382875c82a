import { StringDecoder } from 'node:string_decoder';
import type { SSEEvent } from './types.js';

/**
 * Server-sent events, both ways. The parser follows the WHATWG event-stream rules (fields `data`,
 * `event`, `id`; `:` comments; CR, LF or CRLF line ends; an event ends at a blank line) and works
 * chunk by chunk: a chunk may end anywhere, even inside a UTF-8 character.
 */
export async function* parseSSE(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SSEEvent> {
  // Node's StringDecoder costs a tenth of a streaming TextDecoder; like TextDecoder, it is made to
  // drop a byte order mark that opens the stream.
  const decoder = new StringDecoder('utf8');
  let fresh = true;
  const decode = (text: string): string => {
    if (!fresh || text === '') return text;
    fresh = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  const parser = new SSEParser();
  for await (const chunk of body) {
    const events = parser.push(typeof chunk === 'string' ? chunk : decode(decoder.write(chunk)));
    for (let i = 0; i < events.length; i++) yield events[i]!;
  }
  const tail = parser.push(decode(decoder.end()), true);
  for (let i = 0; i < tail.length; i++) yield tail[i]!;
}

/** Incremental event-stream parser: push text, get the events it completed. */
export class SSEParser {
  #buf = '';
  #data: string[] = [];
  #event: string | undefined;
  #id: string | undefined;
  #skipLF = false;

  push(text: string, end = false): SSEEvent[] {
    const out: SSEEvent[] = [];
    let buf = this.#buf + text;
    if (this.#skipLF && buf.charCodeAt(0) === 10) buf = buf.slice(1);
    this.#skipLF = false;
    let start = 0;
    for (;;) {
      let nl = -1;
      for (let i = start; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c === 10 || c === 13) {
          nl = i;
          break;
        }
      }
      if (nl === -1) break;
      const line = buf.slice(start, nl);
      if (buf.charCodeAt(nl) === 13) {
        if (nl + 1 < buf.length) {
          if (buf.charCodeAt(nl + 1) === 10) nl++;
        } else {
          this.#skipLF = true;
        }
      }
      start = nl + 1;
      this.#line(line, out);
    }
    this.#buf = buf.slice(start);
    if (end) {
      if (this.#buf.length) this.#line(this.#buf, out);
      this.#buf = '';
      this.#line('', out);
    }
    return out;
  }

  #line(line: string, out: SSEEvent[]): void {
    if (line.length === 0) {
      if (this.#data.length) {
        const ev: SSEEvent = { data: this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n') };
        if (this.#event !== undefined) ev.event = this.#event;
        if (this.#id !== undefined) ev.id = this.#id;
        out.push(ev);
      }
      // A relay keeps each event's own fields: unlike EventSource, the id is not carried to the next event.
      this.#data = [];
      this.#event = undefined;
      this.#id = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id') this.#id = value;
  }
}

/** Serializes one event in the event-stream format. */
export function serializeSSE(ev: SSEEvent): string {
  let out = '';
  if (ev.event !== undefined) out += `event: ${ev.event}\n`;
  if (ev.id !== undefined) out += `id: ${ev.id}\n`;
  const data = ev.data;
  if (data.indexOf('\n') === -1) return `${out}data: ${data}\n\n`;
  for (const line of data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** OpenAI's end-of-stream sentinel. */
export const DONE = '[DONE]';
