import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { finishReason, readParts, toOpenAIUsage } from './response.js';

/** Gemini's SSE stream (each event a GenerateContentResponse) → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class GoogleStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  #usage: Json | undefined;
  #started = false;
  #finished = false;
  #done = false;
  /** Per candidate index: role sent, tool calls so far. */
  readonly #cands = new Map<number, { calls: number; finished: boolean }>();

  constructor(includeUsage: boolean, model: string) {
    this.#includeUsage = includeUsage;
    this.#out = new ChunkWriter({ id: `chatcmpl-${Date.now().toString(36)}`, model });
  }

  #chunk(index: number, delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish, index);
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !ev.data || !ev.data.trim()) return undefined;
    let d: Json;
    try {
      d = JSON.parse(ev.data);
    } catch {
      throw new Error(`google sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (Array.isArray(d)) d = isObj(d[0]) ? d[0] : {};
    if (isObj(d.error)) {
      this.#done = true;
      const e = d.error;
      return {
        data: JSON.stringify({
          error: { message: String(e.message ?? 'google stream error'), type: e.status ?? 'server_error', code: e.status ?? null, param: null },
        }),
      };
    }
    if (!this.#started && typeof d.responseId === 'string' && d.responseId) this.#out.id = `chatcmpl-${d.responseId}`;
    if (typeof d.modelVersion === 'string' && d.modelVersion) this.#out.model = d.modelVersion;
    if (isObj(d.usageMetadata)) this.#usage = d.usageMetadata;
    const out: SSEEvent[] = [];
    const candidates: Json[] = Array.isArray(d.candidates) ? d.candidates.filter(isObj) : [];
    if (!candidates.length && isObj(d.promptFeedback) && d.promptFeedback.blockReason) {
      out.push(this.#chunk(0, { role: 'assistant', content: '' }));
      out.push(this.#chunk(0, {}, 'content_filter'));
      this.#started = true;
      this.#finished = true;
      return out;
    }
    candidates.forEach((c, i) => {
      const index = typeof c.index === 'number' ? c.index : i;
      let st = this.#cands.get(index);
      if (!st) {
        st = { calls: 0, finished: false };
        this.#cands.set(index, st);
        out.push(this.#chunk(index, { role: 'assistant', content: '' }));
      }
      this.#started = true;
      const { text, reasoning, calls } = readParts(isObj(c.content) ? c.content.parts : undefined, st.calls);
      if (reasoning) out.push(this.#chunk(index, { reasoning_content: reasoning }));
      if (text) out.push(this.#chunk(index, { content: text }));
      if (calls.length) {
        out.push(this.#chunk(index, { tool_calls: calls.map((call, k) => ({ index: st!.calls + k, ...call })) }));
        st.calls += calls.length;
      }
      if (c.finishReason && c.finishReason !== 'FINISH_REASON_UNSPECIFIED' && !st.finished) {
        st.finished = true;
        out.push(this.#chunk(index, {}, finishReason(c.finishReason, st.calls > 0)));
      }
    });
    if (this.#cands.size && [...this.#cands.values()].every((s) => s.finished)) this.#finished = true;
    return out.length ? out : undefined;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    if (this.#started && !this.#finished) {
      return {
        data: JSON.stringify({
          error: { message: 'The stream from google ended before a finishReason', type: 'server_error', code: 'stream_interrupted', param: null },
        }),
      };
    }
    const out: SSEEvent[] = [];
    if (this.#includeUsage) out.push(this.#out.usage(toOpenAIUsage(this.#usage)));
    out.push(this.#out.done());
    return out;
  }
}
