import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { ChunkWriter } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';
import { textOutput } from './response.js';

/**
 * `/generate_stream`'s server-sent events, each `data:` a generate answer whose `text_output` is the
 * next piece of text, → OpenAI chunks (`chat.completion.chunk`, or `text_completion` for completions).
 * Triton sends no end marker: the stream ends when the model's last response has been sent, so the
 * finish chunk (`stop`) and `data: [DONE]` are written when the body ends. An error object in the
 * stream (inference failed after the 200) or an event that is not JSON fails it.
 */
export class TritonStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #kind: 'chat' | 'completion';
  #started = false;

  constructor(kind: 'chat' | 'completion', model: string) {
    this.#kind = kind;
    this.#out = new ChunkWriter({ id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-triton-${Date.now().toString(36)}`, model });
  }

  #start(out: SSEEvent[]): void {
    if (this.#started || this.#kind !== 'chat') return;
    this.#started = true;
    out.push(this.#out.delta({ role: 'assistant', content: '' }));
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (ev.data === '' || ev.data === DONE) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(ev.data);
    } catch {
      throw badAnswer(`sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    const { text, model } = textOutput(json);
    if (model) this.#out.model = model;
    const out: SSEEvent[] = [];
    this.#start(out);
    if (text) out.push(this.#kind === 'chat' ? this.#out.delta({ content: text }) : this.#out.text(text));
    return out.length ? out : undefined;
  }

  /** The body ended: the finish chunk and `data: [DONE]`. */
  flush(): SSEEvent[] {
    const out: SSEEvent[] = [];
    this.#start(out);
    out.push(this.#kind === 'chat' ? this.#out.delta({}, 'stop') : this.#out.text('', 'stop'), { data: DONE });
    return out;
  }
}
