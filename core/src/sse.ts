import { StringDecoder } from 'node:string_decoder';
import type { SSEEvent } from './types.js';
import { answerTooLarge } from './errors.js';

/**
 * Server-sent events, both ways. The parser follows the WHATWG event-stream rules (fields `data`,
 * `event`, `id`; `:` comments; CR, LF or CRLF line ends; an event ends at a blank line) and works
 * chunk by chunk: a chunk may end anywhere, even inside a UTF-8 character. An event larger than
 * `maxEventBytes` (counted in characters) fails the parse with a 502 naming upstream.maxEventBytes.
 */
export async function* parseSSE(body: AsyncIterable<Uint8Array | string>, maxEventBytes?: number): AsyncGenerator<SSEEvent> {
  // Node's StringDecoder costs a tenth of a streaming TextDecoder; like TextDecoder, it is made to
  // drop a byte order mark that opens the stream.
  const decoder = new StringDecoder('utf8');
  let fresh = true;
  const decode = (text: string): string => {
    if (!fresh || text === '') return text;
    fresh = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  const parser = new SSEParser(maxEventBytes);
  for await (const chunk of body) {
    const events = parser.push(typeof chunk === 'string' ? chunk : decode(decoder.write(chunk)));
    for (let i = 0; i < events.length; i++) yield events[i]!;
  }
  const tail = parser.push(decode(decoder.end()), true);
  for (let i = 0; i < tail.length; i++) yield tail[i]!;
}

/**
 * Incremental event-stream parser: push text, get the events it completed. Each character is looked
 * at once: an unfinished line is appended to (a rope, in V8) and flattened once, when its end
 * arrives, so the work stays linear however many chunks a long line comes in.
 */
export class SSEParser {
  #buf = '';
  /** Characters of the event being read so far (its lines and the unfinished one). */
  #held = 0;
  #data: string[] = [];
  #event: string | undefined;
  #id: string | undefined;
  #skipLF = false;

  constructor(readonly maxEventBytes = Infinity) {}

  push(text: string, end = false): SSEEvent[] {
    const out: SSEEvent[] = [];
    let start = 0;
    if (this.#skipLF && text.length) {
      this.#skipLF = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    for (let nl = start; nl < text.length; nl++) {
      const c = text.charCodeAt(nl);
      if (c !== 10 && c !== 13) continue;
      if ((this.#held += nl - start) > this.maxEventBytes) throw answerTooLarge('maxEventBytes', this.maxEventBytes);
      const line = this.#buf + text.slice(start, nl);
      this.#buf = '';
      if (c === 13) {
        if (nl + 1 === text.length) this.#skipLF = true;
        else if (text.charCodeAt(nl + 1) === 10) nl++;
      }
      start = nl + 1;
      this.#line(line, out);
    }
    if (start < text.length) {
      this.#buf += text.slice(start);
      if ((this.#held += text.length - start) > this.maxEventBytes) throw answerTooLarge('maxEventBytes', this.maxEventBytes);
    }
    if (end) {
      if (this.#buf.length) this.#line(this.#buf, out);
      this.#buf = '';
      this.#line('', out);
    }
    return out;
  }

  #line(line: string, out: SSEEvent[]): void {
    if (line.length === 0) {
      this.#held = 0;
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
