import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer, Usage } from '@waygate/core';
import { ChunkWriter } from './chunks.js';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { openAIUsage } from './usage.js';

/**
 * The skeleton of a transformer for a provider stream whose events are chat chunks in OpenAI's shape
 * (`{id, choices: [{index, delta, finish_reason}], usage}`, usage on the last, then `data: [DONE]`),
 * relayed as `chat.completion.chunk` events under the request's model. Here: an event after the end
 * is dropped; `[DONE]` ends the stream (the usage chunk first when `stream_options.include_usage`
 * asked for it and the provider counted); an event that is not JSON fails it (`fail`), one that is
 * not an object is skipped; each chunk's `id` and usage are kept. The provider's subclass maps a
 * chunk's choices (`choices`), and says what a body that ends before `[DONE]` is (`unfinished`:
 * throw, or `end()` when it is whole).
 */
export abstract class OpenAIChunkStream implements StreamTransformer {
  protected readonly out: ChunkWriter;
  protected readonly fail: (message: string) => Error;
  readonly #includeUsage: boolean;
  #usage: Usage | undefined;
  #done = false;

  constructor(init: { id: string; model: string; includeUsage: boolean; fail: (message: string) => Error }) {
    this.out = new ChunkWriter({ id: init.id, model: init.model });
    this.#includeUsage = init.includeUsage;
    this.fail = init.fail;
  }

  /** The events one chunk (an object, its id and usage already kept) becomes; it may throw to fail the stream. */
  protected abstract choices(chunk: Json, ev: SSEEvent): SSEEvent[];

  /** The body ended before `[DONE]`: throw (the relay reports the stream interrupted), or return `this.end()`. */
  protected abstract unfinished(): SSEEvent[];

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    if (ev.data.trim() === DONE) return this.end();
    let chunk: unknown;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      throw this.fail(`sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (!isObj(chunk)) return undefined;
    if (typeof chunk.id === 'string' && chunk.id) this.out.id = chunk.id;
    this.#usage = openAIUsage(chunk.usage) ?? this.#usage;
    const out = this.choices(chunk, ev);
    return out.length ? out : undefined;
  }

  /** The end: the usage chunk when asked for and known, then `data: [DONE]`. */
  protected end(): SSEEvent[] {
    this.#done = true;
    const out: SSEEvent[] = [];
    if (this.#includeUsage && this.#usage) out.push(this.out.usage(this.#usage));
    out.push(this.out.done());
    return out;
  }

  flush(): SSEEvent[] | undefined {
    return this.#done ? undefined : this.unfinished();
  }
}
