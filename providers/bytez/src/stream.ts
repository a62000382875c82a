import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { badAnswer } from './errors.js';

/**
 * Bytez streams a chat answer as plain text, its tokens as they come, and ends it by closing the
 * body: no SSE framing, no end event. Each chunk of the body becomes one event whose data is its text,
 * decoded as UTF-8 across chunk boundaries (a character split between chunks is kept whole).
 */
export async function* decodeBytezStream(body: AsyncIterable<Uint8Array>): AsyncIterable<SSEEvent> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield { data: text };
  }
  const rest = decoder.decode();
  if (rest) yield { data: rest };
}

/** Bytez's text pieces → OpenAI chat.completion.chunk events, ending with `stop` and `data: [DONE]`. */
export class BytezStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  #started = false;

  constructor(model: string, id: string) {
    this.#out = new ChunkWriter({ id: `chatcmpl-bytez-${id}`, model });
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (!ev.data) return undefined;
    const out: SSEEvent[] = [];
    if (!this.#started) {
      this.#started = true;
      out.push(this.#out.delta({ role: 'assistant', content: '' }));
    }
    out.push(this.#out.delta({ content: ev.data }));
    return out;
  }

  flush(): SSEEvent[] {
    // A body closed before any text is a failed answer (a model that produced nothing looks the same, and is rarer).
    if (!this.#started) throw badAnswer('closed the stream without any text');
    return [this.#out.delta({}, 'stop'), this.#out.done()];
  }
}
