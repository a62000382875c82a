import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { mapFinishReason, usageOf } from './response.js';

/** Cohere's v2 chat event stream → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class CohereStreamTransformer implements StreamTransformer {
  /** Named after Cohere's message id once message-start gives it. */
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  /** Cohere tool-call index → OpenAI tool call index. */
  readonly #tools = new Map<number, number>();
  #started = false;
  #done = false;

  constructor(model: string, includeUsage: boolean) {
    this.#out = new ChunkWriter({ id: 'cohere-stream', model });
    this.#includeUsage = includeUsage;
  }

  #delta(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  /** The role chunk, if the stream has not sent it yet (a stream without message-start still names the role). */
  #start(out: SSEEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(this.#delta({ role: 'assistant', content: '' }));
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    let data: Json;
    try {
      data = JSON.parse(ev.data);
    } catch {
      if (ev.data === '[DONE]') return undefined;
      throw new Error(`cohere sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (!isObj(data)) return undefined;
    const type = ev.event ?? data.type;
    const out: SSEEvent[] = [];
    const msg = isObj(data.delta) && isObj(data.delta.message) ? data.delta.message : {};
    switch (type) {
      case 'message-start':
        if (typeof data.id === 'string' && data.id) this.#out.id = data.id;
        this.#start(out);
        break;
      case 'content-start':
      case 'content-delta': {
        this.#start(out);
        const text = isObj(msg.content) ? msg.content.text : undefined;
        if (typeof text === 'string' && text) out.push(this.#delta({ content: text }));
        break;
      }
      case 'tool-call-start': {
        this.#start(out);
        const call = isObj(msg.tool_calls) ? msg.tool_calls : Array.isArray(msg.tool_calls) ? msg.tool_calls[0] : undefined;
        const cIndex = typeof data.index === 'number' ? data.index : this.#tools.size;
        const index = this.#tools.size;
        this.#tools.set(cIndex, index);
        const args = call?.function?.arguments;
        out.push(
          this.#delta({
            tool_calls: [
              {
                index,
                id: typeof call?.id === 'string' ? call.id : `call_${index}`,
                type: 'function',
                function: { name: call?.function?.name ?? '', arguments: typeof args === 'string' ? args : '' },
              },
            ],
          }),
        );
        break;
      }
      case 'tool-call-delta': {
        const call = isObj(msg.tool_calls) ? msg.tool_calls : Array.isArray(msg.tool_calls) ? msg.tool_calls[0] : undefined;
        const args = call?.function?.arguments;
        if (typeof args !== 'string' || !args) break;
        const cIndex = typeof data.index === 'number' ? data.index : this.#tools.size - 1;
        const index = this.#tools.get(cIndex) ?? Math.max(0, this.#tools.size - 1);
        out.push(this.#delta({ tool_calls: [{ index, function: { arguments: args } }] }));
        break;
      }
      case 'message-end': {
        this.#start(out);
        const d = isObj(data.delta) ? data.delta : {};
        out.push(this.#delta({}, mapFinishReason(d.finish_reason)));
        if (this.#includeUsage) {
          const usage = usageOf(d.usage);
          if (usage) out.push(this.#out.usage(usage));
        }
        out.push(this.#out.done());
        this.#done = true;
        break;
      }
      default:
        // content-end, tool-plan-delta, tool-call-end, citation-start/end, debug: nothing for an OpenAI client.
        break;
    }
    return out.length ? out : undefined;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done) return undefined;
    throw new Error('the cohere stream ended before message-end');
  }
}
