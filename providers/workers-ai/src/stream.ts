import { DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer, Usage } from '@waygate/core';
import { ChunkWriter } from '@waygate/provider-kit';
import { badAnswer, failedEnvelope } from './errors.js';
import { isObj } from './json.js';
import { finishReason, responseText, toolCallOf, usageOf } from './response.js';

/**
 * Workers AI's text generation stream (`stream: true`): server-sent events `data: {"response":"..."}`,
 * one piece of text each, ending with `data: [DONE]`. An event may carry `usage` (the last ones do on
 * the models that count tokens) and `tool_calls`, whole (`{name, arguments}`) or in OpenAI's pieces
 * (`{index, id, function: {name, arguments}}`). Workers AI sends no finish reason: it is `tool_calls`
 * when the model called one, `length` when it used all the tokens asked for, else `stop`. A stream
 * that closes before `[DONE]` was cut; an event that is not JSON, or an error envelope, fails it.
 */
export class WorkersAIStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #kind: 'chat' | 'completion';
  readonly #includeUsage: boolean;
  readonly #maxTokens: number | undefined;
  /** Workers AI's tool call index (pieces) → the OpenAI index. */
  readonly #tools = new Map<number, number>();
  #calls = 0;
  #usage: Usage | undefined;
  #started = false;
  #done = false;

  constructor(kind: 'chat' | 'completion', model: string, includeUsage: boolean, maxTokens: number | undefined) {
    this.#kind = kind;
    this.#out = new ChunkWriter({ id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-workers-ai-${Date.now().toString(36)}`, model });
    this.#includeUsage = includeUsage;
    this.#maxTokens = maxTokens;
  }

  #start(out: SSEEvent[]): void {
    if (this.#started || this.#kind !== 'chat') return;
    this.#started = true;
    out.push(this.#out.delta({ role: 'assistant', content: '' }));
  }

  #toolDeltas(calls: unknown[], out: SSEEvent[]): void {
    for (const call of calls) {
      if (!isObj(call)) continue;
      const piece = typeof call.index === 'number' && isObj(call.function);
      if (piece && this.#tools.has(call.index)) {
        const args = call.function.arguments;
        if (typeof args === 'string' && args)
          out.push(this.#out.delta({ tool_calls: [{ index: this.#tools.get(call.index), function: { arguments: args } }] }));
        continue;
      }
      const whole = toolCallOf(call, this.#calls);
      if (!whole) continue;
      const index = this.#calls++;
      if (piece) this.#tools.set(call.index, index);
      out.push(this.#out.delta({ tool_calls: [{ index, ...whole }] }));
    }
  }

  #finish(out: SSEEvent[]): void {
    this.#done = true;
    this.#start(out);
    const reason = finishReason(this.#calls, this.#usage, this.#maxTokens);
    out.push(this.#kind === 'chat' ? this.#out.delta({}, reason) : this.#out.text('', reason));
    if (this.#includeUsage && this.#usage) {
      out.push(this.#kind === 'chat' ? this.#out.usage(this.#usage) : this.#out.textUsage(this.#usage));
    }
    out.push({ data: DONE });
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    const out: SSEEvent[] = [];
    if (ev.data === DONE) {
      this.#finish(out);
      return out;
    }
    if (ev.data === '') return undefined;
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      throw badAnswer(`sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (!isObj(data)) return undefined;
    if (data.success === false || (Array.isArray(data.errors) && data.errors.length) || data.error !== undefined) {
      throw failedEnvelope(isObj(data.error) || typeof data.error === 'string' ? { errors: [data.error] } : data);
    }
    this.#usage = usageOf(data.usage) ?? this.#usage;
    this.#start(out);
    const text = data.response === undefined ? '' : responseText(data.response);
    if (text) out.push(this.#kind === 'chat' ? this.#out.delta({ content: text }) : this.#out.text(text));
    if (this.#kind === 'chat' && Array.isArray(data.tool_calls)) this.#toolDeltas(data.tool_calls, out);
    return out.length ? out : undefined;
  }

  /** A stream that closed before `[DONE]` was cut: the relay reports it as interrupted. */
  flush(): undefined {
    if (!this.#done) throw new Error('the workers-ai stream ended before data: [DONE]');
    return undefined;
  }
}
