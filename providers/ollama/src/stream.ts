import { StringDecoder } from 'node:string_decoder';
import { DONE, ErrorCode, GatewayError } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { ChunkWriter } from '@waygate/provider-kit';
import { badAnswer, streamError } from './errors.js';
import { isObj, str } from './json.js';
import { finishReason, toolCallsOf, usageOf } from './response.js';

/**
 * Ollama streams newline-delimited JSON (`application/x-ndjson`), one object a line, the last with
 * `"done": true`. decodeNDJSON turns the body into one event per line (its text as `data`), whatever
 * the chunks cut; a line longer than `upstream.maxEventBytes` fails the stream with a 502.
 */
export async function* decodeNDJSON(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SSEEvent> {
  const max = (body as { limits?: { maxEventBytes?: number } }).limits?.maxEventBytes ?? Infinity;
  const decoder = new StringDecoder('utf8');
  let buf = '';
  const tooLong = () =>
    new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `upstream answer exceeded upstream.maxEventBytes (${max} bytes)`, { type: 'server_error' });
  for await (const chunk of body) {
    buf += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line.trim()) yield { data: line };
    }
    if (buf.length > max) throw tooLong();
  }
  buf += decoder.end();
  if (buf.trim()) yield { data: buf.replace(/\r$/, '') };
}

/**
 * Ollama's stream → OpenAI chunks. Chat lines carry `message.content` (and `message.thinking`,
 * relayed as `reasoning_content`, and whole `message.tool_calls`); generate lines carry `response`.
 * The `done` line brings `done_reason` and the counters: the finish chunk, then a usage chunk when
 * `stream_options.include_usage` was asked for, then `data: [DONE]`. An `{"error": ...}` line fails
 * the stream; so does a line that is not JSON; a stream that closes before `done` was cut.
 */
export class OllamaStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #kind: 'chat' | 'completion';
  readonly #includeUsage: boolean;
  #calls = 0;
  #started = false;
  #done = false;

  constructor(kind: 'chat' | 'completion', model: string, includeUsage: boolean) {
    this.#kind = kind;
    this.#out = new ChunkWriter({ id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-ollama-${Date.now().toString(36)}`, model });
    this.#includeUsage = includeUsage;
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    let line: unknown;
    try {
      line = JSON.parse(ev.data);
    } catch {
      throw badAnswer(`sent a stream line that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (!isObj(line)) throw badAnswer(`sent a stream line that is not an object: ${ev.data.slice(0, 200)}`);
    if (line.error !== undefined) throw streamError(line);
    if (typeof line.model === 'string' && line.model) this.#out.model = line.model;
    const out: SSEEvent[] = [];
    const chat = this.#kind === 'chat';
    if (chat && !this.#started) {
      this.#started = true;
      out.push(this.#out.delta({ role: 'assistant', content: '' }));
    }
    if (chat) {
      const msg = isObj(line.message) ? line.message : {};
      const thinking = str(msg.thinking);
      if (thinking) out.push(this.#out.delta({ reasoning_content: thinking }));
      const text = str(msg.content);
      if (text) out.push(this.#out.delta({ content: text }));
      const calls = toolCallsOf(msg.tool_calls, this.#calls);
      for (const call of calls) out.push(this.#out.delta({ tool_calls: [{ index: this.#calls++, ...call }] }));
    } else {
      const text = str(line.response);
      if (text) out.push(this.#out.text(text));
    }
    if (line.done === true) {
      this.#done = true;
      const reason = finishReason(line.done_reason, this.#calls);
      out.push(chat ? this.#out.delta({}, reason) : this.#out.text('', reason));
      const usage = usageOf(line);
      if (this.#includeUsage && usage) out.push(chat ? this.#out.usage(usage) : this.#out.textUsage(usage));
      out.push({ data: DONE });
    }
    return out.length ? out : undefined;
  }

  /** A stream that closed before its `done` line was cut: the relay reports it as interrupted. */
  flush(): undefined {
    if (!this.#done) throw new Error('the ollama stream ended before its "done": true line');
    return undefined;
  }
}
