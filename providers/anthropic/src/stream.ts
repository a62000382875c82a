import { ChunkWriter } from '@waygate/provider-kit';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { finishReason, toOpenAIUsage } from './response.js';

/** Anthropic's event stream → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class AnthropicStreamTransformer implements StreamTransformer {
  readonly #out = new ChunkWriter();
  readonly #includeUsage: boolean;
  #usage: Json = {};
  /** Anthropic content block index → OpenAI tool call index, for tool_use blocks. */
  readonly #tools = new Map<number, number>();
  readonly #thinking = new Map<number, { thinking: string; signature?: string; redacted?: string }>();
  #started = false;
  #done = false;

  constructor(includeUsage: boolean) {
    this.#includeUsage = includeUsage;
  }

  #chunk(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  #end(): SSEEvent[] {
    this.#done = true;
    const out: SSEEvent[] = [];
    if (this.#includeUsage) out.push(this.#out.usage(toOpenAIUsage(this.#usage)));
    out.push(this.#out.done());
    return out;
  }

  transform(ev: SSEEvent): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !ev.data) return undefined;
    let d: Json;
    try {
      d = JSON.parse(ev.data);
    } catch {
      throw new Error(`anthropic sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    switch (d.type ?? ev.event) {
      case 'message_start': {
        const m: Json = isObj(d.message) ? d.message : {};
        this.#out.id = String(m.id ?? '');
        this.#out.model = String(m.model ?? '');
        if (isObj(m.usage)) this.#usage = { ...m.usage };
        this.#started = true;
        return this.#chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b: Json = isObj(d.content_block) ? d.content_block : {};
        const index = Number(d.index);
        if (b.type === 'text') return b.text ? this.#chunk({ content: b.text }) : undefined;
        if (b.type === 'tool_use') {
          const n = this.#tools.size;
          this.#tools.set(index, n);
          return this.#chunk({ tool_calls: [{ index: n, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] });
        }
        if (b.type === 'thinking') {
          this.#thinking.set(index, { thinking: b.thinking ?? '', signature: b.signature || undefined });
          return b.thinking ? this.#chunk({ reasoning_content: b.thinking }) : undefined;
        }
        if (b.type === 'redacted_thinking') this.#thinking.set(index, { thinking: '', redacted: b.data });
        return undefined;
      }
      case 'content_block_delta': {
        const delta: Json = isObj(d.delta) ? d.delta : {};
        const index = Number(d.index);
        if (delta.type === 'text_delta') return delta.text ? this.#chunk({ content: delta.text }) : undefined;
        if (delta.type === 'input_json_delta') {
          const n = this.#tools.get(index);
          if (n === undefined || !delta.partial_json) return undefined;
          return this.#chunk({ tool_calls: [{ index: n, function: { arguments: delta.partial_json } }] });
        }
        if (delta.type === 'thinking_delta') {
          const t = this.#thinking.get(index);
          if (t) t.thinking += delta.thinking ?? '';
          return delta.thinking ? this.#chunk({ reasoning_content: delta.thinking }) : undefined;
        }
        if (delta.type === 'signature_delta') {
          const t = this.#thinking.get(index);
          if (t) t.signature = (t.signature ?? '') + (delta.signature ?? '');
        }
        return undefined;
      }
      case 'content_block_stop': {
        // A finished thinking block is handed on whole (with its signature), so a client can send it back.
        const t = this.#thinking.get(Number(d.index));
        if (!t) return undefined;
        this.#thinking.delete(Number(d.index));
        const block =
          t.redacted !== undefined
            ? { type: 'redacted_thinking', data: t.redacted }
            : { type: 'thinking', thinking: t.thinking, signature: t.signature ?? '' };
        return this.#chunk({ thinking_blocks: [block] });
      }
      case 'message_delta': {
        if (isObj(d.usage)) {
          for (const k in d.usage) if (d.usage[k] !== null && d.usage[k] !== undefined) this.#usage[k] = d.usage[k];
        }
        const stop = isObj(d.delta) ? d.delta.stop_reason : undefined;
        return stop ? this.#chunk({}, finishReason(stop)) : undefined;
      }
      case 'message_stop':
        return this.#end();
      case 'error': {
        this.#done = true;
        const e: Json = isObj(d.error) ? d.error : {};
        return {
          data: JSON.stringify({
            error: { message: String(e.message ?? 'anthropic stream error'), type: e.type ?? 'server_error', code: e.type ?? null, param: null },
          }),
        };
      }
      default:
        return undefined; // ping and event types added later
    }
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !this.#started) return undefined;
    this.#done = true;
    return {
      data: JSON.stringify({
        error: { message: 'The stream from anthropic ended before message_stop', type: 'server_error', code: 'stream_interrupted', param: null },
      }),
    };
  }
}
