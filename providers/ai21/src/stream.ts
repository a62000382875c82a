import { isObj, OpenAIChunkStream } from '@waygate/provider-kit';
import type { SSEEvent } from '@waygate/core';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';
import { finishReason } from './response.js';

/**
 * Jamba's chat stream (SSE: chunks of `{id, choices: [{index, delta, finish_reason}], usage}`, the
 * first delta `{role}`, usage on the last chunk, then `data: [DONE]`) → OpenAI chat.completion.chunk
 * events: the same deltas under the request's model, finish reasons mapped, tool call arguments as
 * text; usage as a chunk of its own when `stream_options.include_usage` asked for it.
 */
export class JambaStreamTransformer extends OpenAIChunkStream {
  #started = false;

  constructor(model: string, includeUsage: boolean) {
    super({ id: 'ai21-stream', model, includeUsage, fail: badAnswer });
  }

  protected choices(chunk: Json): SSEEvent[] {
    const out: SSEEvent[] = [];
    for (const c of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isObj(c)) continue;
      const index = typeof c.index === 'number' ? c.index : 0;
      const d = isObj(c.delta) ? c.delta : {};
      const delta: Json = {};
      if (!this.#started) {
        this.#started = true;
        delta.role = 'assistant';
      }
      if (typeof d.content === 'string' && d.content) delta.content = d.content;
      if (Array.isArray(d.tool_calls)) {
        delta.tool_calls = d.tool_calls.map((t: unknown, i: number) => {
          const call = isObj(t) ? t : {};
          const fn = isObj(call.function) ? call.function : {};
          const piece: Json = { index: typeof call.index === 'number' ? call.index : i };
          if (typeof call.id === 'string') piece.id = call.id;
          if (call.id !== undefined || fn.name !== undefined) piece.type = 'function';
          const f: Json = {};
          if (typeof fn.name === 'string') f.name = fn.name;
          if (fn.arguments !== undefined) f.arguments = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments);
          piece.function = f;
          return piece;
        });
      }
      const finish = c.finish_reason === null || c.finish_reason === undefined ? null : finishReason(c.finish_reason);
      if (Object.keys(delta).length || finish) out.push(this.out.delta(delta, finish, index));
    }
    return out;
  }

  protected unfinished(): never {
    throw badAnswer('ended the stream before data: [DONE]');
  }
}
