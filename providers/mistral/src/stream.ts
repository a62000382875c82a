import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import { badAnswer, mapMistralError } from './errors.js';

/**
 * A FIM stream (`chat.completion.chunk` events, usage on the last, `data: [DONE]`) as OpenAI's
 * completions stream: each chunk a `text_completion` whose choices carry the delta's content as
 * `text`; usage and `[DONE]` kept. An error object in the stream fails it; a stream that closes
 * before `[DONE]` was cut.
 */
export class FimCompletionStream implements StreamTransformer {
  #done = false;

  transform(ev: SSEEvent): SSEEvent | undefined {
    if (this.#done) return undefined;
    if (ev.data === DONE) {
      this.#done = true;
      return ev;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      throw badAnswer('sent a stream event that is not valid JSON');
    }
    if (!isObj(chunk)) throw badAnswer('sent a stream event that is not an object');
    if (chunk.object === 'error' || chunk.error !== undefined) throw mapMistralError(502, chunk, {});
    const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isObj) : [];
    const out: Record<string, unknown> = {
      id: chunk.id,
      object: 'text_completion',
      created: chunk.created,
      model: chunk.model,
      choices: choices.map((c, i) => ({
        index: typeof c.index === 'number' ? c.index : i,
        text: isObj(c.delta) && typeof c.delta.content === 'string' ? c.delta.content : '',
        logprobs: null,
        finish_reason: c.finish_reason ?? null,
      })),
    };
    if (isObj(chunk.usage)) out.usage = chunk.usage;
    return { data: JSON.stringify(out) };
  }

  flush(): undefined {
    if (!this.#done) throw new Error('the mistral-ai stream ended before [DONE]');
    return undefined;
  }
}
