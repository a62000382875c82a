import { ChunkWriter } from '@waygate/provider-kit';
import type { BuildInput, SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { finishReason, toOpenAIUsage } from './response.js';

/** ConverseStream events (one per event-stream frame) → OpenAI chat.completion.chunk events, ending with `data: [DONE]`. */
export class BedrockStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #includeUsage: boolean;
  /** Bedrock content block index → OpenAI tool call index. */
  readonly #tools = new Map<number, number>();
  #started = false;
  #finished = false;
  #done = false;

  constructor(input: BuildInput) {
    this.#out = new ChunkWriter({
      id: `chatcmpl-${input.ctx.id}`,
      model: String(input.body?.model ?? ''),
      created: Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    });
    const so = input.body?.stream_options;
    this.#includeUsage = isObj(so) && so.include_usage === true;
  }

  #chunk(delta: Json, finish: string | null = null): SSEEvent {
    return this.#out.delta(delta, finish);
  }

  #start(out: SSEEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push(this.#chunk({ role: 'assistant', content: '' }));
  }

  #end(usage?: Json): SSEEvent[] {
    const out: SSEEvent[] = [];
    if (this.#done) return out;
    this.#start(out);
    if (!this.#finished) {
      this.#finished = true;
      out.push(this.#chunk({}, 'stop'));
    }
    const u = toOpenAIUsage(usage);
    if (this.#includeUsage && u) out.push(this.#out.usage(u));
    this.#done = true;
    out.push(this.#out.done());
    return out;
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    let d: Json;
    try {
      const parsed: unknown = JSON.parse(ev.data);
      d = isObj(parsed) ? parsed : {};
    } catch {
      d = {};
    }
    const type = ev.event ?? '';
    if (type.startsWith('exception:')) {
      this.#done = true;
      const code = type.slice('exception:'.length);
      const message = String(d.message ?? d.Message ?? `bedrock stream ${code}`);
      return [
        {
          data: JSON.stringify({
            error: { message: `${code}: ${message}`, type: code === 'throttlingException' ? 'rate_limit_error' : 'server_error', code, param: null },
          }),
        },
      ];
    }
    const out: SSEEvent[] = [];
    switch (type) {
      case 'messageStart':
        this.#start(out);
        break;
      case 'contentBlockStart': {
        this.#start(out);
        const tu = isObj(d.start) && isObj(d.start.toolUse) ? d.start.toolUse : undefined;
        if (tu) {
          const index = this.#tools.size;
          this.#tools.set(Number(d.contentBlockIndex ?? 0), index);
          out.push(
            this.#chunk({
              tool_calls: [{ index, id: String(tu.toolUseId ?? ''), type: 'function', function: { name: String(tu.name ?? ''), arguments: '' } }],
            }),
          );
        }
        break;
      }
      case 'contentBlockDelta': {
        this.#start(out);
        const delta = isObj(d.delta) ? d.delta : {};
        if (typeof delta.text === 'string') {
          if (delta.text) out.push(this.#chunk({ content: delta.text }));
        } else if (isObj(delta.toolUse)) {
          const index = this.#tools.get(Number(d.contentBlockIndex ?? 0));
          const piece = delta.toolUse.input;
          if (index !== undefined && typeof piece === 'string' && piece)
            out.push(this.#chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
        } else if (isObj(delta.reasoningContent) && typeof delta.reasoningContent.text === 'string' && delta.reasoningContent.text) {
          out.push(this.#chunk({ reasoning_content: delta.reasoningContent.text }));
        }
        break;
      }
      case 'messageStop':
        this.#start(out);
        if (!this.#finished) {
          this.#finished = true;
          out.push(this.#chunk({}, finishReason(d.stopReason) ?? 'stop'));
        }
        break;
      case 'metadata':
        out.push(...this.#end(isObj(d.usage) ? d.usage : undefined));
        break;
      default:
        break; // contentBlockStop, and event types added later
    }
    return out;
  }

  flush(): SSEEvent | SSEEvent[] | undefined {
    if (this.#done || !this.#started) return undefined;
    if (this.#finished) return this.#end(); // messageStop came; metadata is optional
    this.#done = true;
    return {
      data: JSON.stringify({
        error: { message: 'The stream from bedrock ended before messageStop', type: 'server_error', code: 'stream_interrupted', param: null },
      }),
    };
  }
}
