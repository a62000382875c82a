import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { predictionFailed } from './errors.js';
import { isObj, str } from './json.js';
import type { Json } from './json.js';
import type { UsageSlot } from './usage.js';

/** An event's data as JSON, or its text as `{detail}` (Replicate's error events are JSON, but be lenient). */
function parsed(data: string): Json {
  try {
    const v: unknown = JSON.parse(data);
    return isObj(v) ? v : {};
  } catch {
    return data ? { detail: data } : {};
  }
}

/**
 * Replicate's prediction event stream (`urls.stream`) → OpenAI `chat.completion.chunk` events:
 * `output` (plain text, one token or piece each) → content deltas after the role chunk; `done` → the
 * finish chunk (`stop`) and `data: [DONE]`. An `error` event, or `done` with the reason `error` or
 * `canceled`, fails the stream (a 502 before any content, a terminal error event after it); a stream
 * that ends before `done` was cut. The stream carries no token counts: the usage chunk (after the
 * finish chunk) is sent only when `usage` (the decoder's slot, see usage.ts) was filled in by the time
 * `done` arrives.
 */
export class ReplicateStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #prediction: Json;
  readonly #usage: UsageSlot | undefined;
  #started = false;
  #done = false;

  constructor(model: string, prediction: Json, usage?: UsageSlot) {
    this.#out = new ChunkWriter({ id: str(prediction.id) ?? 'replicate-stream', model });
    this.#prediction = prediction;
    this.#usage = usage;
  }

  #start(out: SSEEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(this.#out.delta({ role: 'assistant', content: '' }));
  }

  #failed(status: string, detail: unknown): never {
    const error = typeof detail === 'string' ? detail : undefined;
    throw predictionFailed({ ...this.#prediction, status, error }, 200);
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    // Events Replicate may add (logs, progress), and anything after done: nothing for an OpenAI client.
    if (this.#done || (ev.event !== 'output' && ev.event !== 'done' && ev.event !== 'error')) return undefined;
    if (ev.event === 'error') this.#failed('failed', parsed(ev.data).detail);
    const out: SSEEvent[] = [];
    this.#start(out);
    if (ev.event === 'output') {
      if (ev.data) out.push(this.#out.delta({ content: ev.data }));
      return out;
    }
    const reason = parsed(ev.data).reason;
    if (reason === 'error' || reason === 'canceled') this.#failed(reason === 'error' ? 'failed' : 'canceled', undefined);
    this.#done = true;
    out.push(this.#out.delta({}, 'stop'));
    const usage = this.#usage?.usage;
    if (usage) out.push(this.#out.usage(usage));
    out.push(this.#out.done());
    return out;
  }

  /** A stream that closed before `done` was cut: the relay reports it as interrupted. */
  flush(): undefined {
    if (!this.#done) throw new Error('the replicate stream ended before its done event');
    return undefined;
  }
}
