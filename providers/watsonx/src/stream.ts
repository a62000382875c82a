import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj, OpenAIChunkStream } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';

/**
 * The native `text/chat_stream` (SSE `event: message` events whose data is a chunk in OpenAI's shape
 * with `model_id`; usage on the last) → OpenAI chat.completion.chunk events under the request's model;
 * usage as its own chunk when `stream_options.include_usage` asked for it; `data: [DONE]` at the end.
 * A stream that closes before any choice finished is reported as interrupted.
 */
export class WatsonxStreamTransformer extends OpenAIChunkStream {
  #finished = false;

  constructor(model: string, includeUsage: boolean) {
    super({ id: 'watsonx-stream', model, includeUsage, fail: badAnswer });
  }

  protected choices(chunk: Json, ev: SSEEvent): SSEEvent[] {
    if (ev.event === 'error' || Array.isArray(chunk.errors)) {
      const e = Array.isArray(chunk.errors) && isObj(chunk.errors[0]) ? chunk.errors[0] : {};
      throw badAnswer(`sent an error event: ${String(e.message ?? ev.data).slice(0, 300)}`);
    }
    const out: SSEEvent[] = [];
    for (const c of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isObj(c)) continue;
      const finish = typeof c.finish_reason === 'string' ? c.finish_reason : null;
      if (finish) this.#finished = true;
      out.push(this.out.delta(isObj(c.delta) ? c.delta : {}, finish, typeof c.index === 'number' ? c.index : 0));
    }
    return out;
  }

  protected unfinished(): SSEEvent[] {
    // The native stream may close without `[DONE]`: it is whole once a choice finished.
    if (this.#finished) return this.end();
    throw badAnswer('closed the stream before it finished');
  }
}

/** The model gateway's stream is OpenAI's: events pass as they came; a stream without `[DONE]` failed. */
export class GatewayPassThrough implements StreamTransformer {
  #done = false;

  transform(ev: SSEEvent): SSEEvent {
    if (ev.data === DONE) this.#done = true;
    return ev;
  }

  flush(): undefined {
    if (!this.#done) throw badAnswer('closed the stream before data: [DONE]');
    return undefined;
  }
}
