import { ChunkWriter } from '@waygate/provider-kit';
import type { BuildInput, SSEEvent, StreamTransformer, Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { apiFormatOf } from './request.js';
import type { ApiFormat } from './request.js';
import { cohereCalls, finishReason, textOfParts, toOpenAIUsage } from './response.js';

/**
 * OCI's chat stream (isStream: true): data-only server-sent events, each a JSON object.
 *
 * GENERIC: `{index, message: {role, content: [{type: TEXT, text}], toolCalls: [...]}}` per delta; a
 * tool call opens with its `id` and `name`, and its `arguments` follow in pieces without an id; the
 * last event carries `finishReason`. COHERE: `{apiFormat: COHERE, text}` per delta, `{toolCalls}` with
 * whole calls, and a last event with `finishReason` that repeats the full text (not sent again).
 * With `numGenerations` > 1, GENERIC events name their choice by `index`, which OpenAI's chunks keep.
 * Usage (`streamOptions.isIncludeUsage`) comes in an event of its own or on the last one. The stream
 * ends when the connection closes (a `data: [DONE]` is accepted too): after a finishReason that is the
 * proper end; before one, the stream was cut.
 */
export class OracleStreamTransformer implements StreamTransformer {
  readonly #out: ChunkWriter;
  readonly #format: ApiFormat;
  readonly #includeUsage: boolean;
  /** OCI tool call id → OpenAI tool call index. */
  readonly #ids = new Map<string, number>();
  /** Position in an event's toolCalls → the OpenAI index an id-less argument piece there belongs to. */
  readonly #atPosition = new Map<number, number>();
  #calls = 0;
  /** Per choice (OCI's event `index`, for `n` > 1): its role sent, its text sent, its finish reason. */
  readonly #started = new Set<number>();
  readonly #sentText = new Set<number>();
  readonly #finish = new Map<number, string>();
  #usage: Usage | undefined;
  #done = false;

  constructor(input: BuildInput) {
    this.#out = new ChunkWriter({
      id: `chatcmpl-${input.ctx.id}`,
      model: String(input.body?.model ?? ''),
      created: Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    });
    this.#format = apiFormatOf(input);
    const so = input.body?.stream_options;
    this.#includeUsage = isObj(so) && so.include_usage === true;
  }

  #start(out: SSEEvent[], choice = 0): void {
    if (this.#started.has(choice)) return;
    this.#started.add(choice);
    out.push(this.#out.delta({ role: 'assistant', content: '' }, null, choice));
  }

  #text(out: SSEEvent[], text: string | undefined, choice: number): void {
    if (!text) return;
    this.#start(out, choice);
    this.#sentText.add(choice);
    out.push(this.#out.delta({ content: text }, null, choice));
  }

  #error(message: string, code: string, type = 'server_error'): SSEEvent[] {
    this.#done = true;
    return [{ data: JSON.stringify({ error: { message, type, code, param: null } }) }];
  }

  /** GENERIC tool call pieces → OpenAI tool call deltas. */
  #genericCalls(out: SSEEvent[], calls: unknown[], choice: number): void {
    calls.forEach((c, pos) => {
      if (!isObj(c)) return;
      const id = typeof c.id === 'string' && c.id ? c.id : undefined;
      const args = typeof c.arguments === 'string' ? c.arguments : c.arguments !== undefined ? JSON.stringify(c.arguments) : '';
      let index = id !== undefined ? this.#ids.get(id) : this.#atPosition.get(pos);
      this.#start(out, choice);
      if (index === undefined) {
        index = this.#calls++;
        if (id !== undefined) this.#ids.set(id, index);
        this.#atPosition.set(pos, index);
        out.push(
          this.#out.delta(
            { tool_calls: [{ index, id: id ?? `call_${index}`, type: 'function', function: { name: String(c.name ?? ''), arguments: args } }] },
            null,
            choice,
          ),
        );
        return;
      }
      this.#atPosition.set(pos, index);
      if (args) out.push(this.#out.delta({ tool_calls: [{ index, function: { arguments: args } }] }, null, choice));
    });
  }

  /** COHERE whole tool calls → one OpenAI tool call delta each. */
  #cohereCalls(out: SSEEvent[], calls: unknown): void {
    for (const call of cohereCalls(calls, this.#calls)) {
      this.#start(out);
      out.push(this.#out.delta({ tool_calls: [{ index: this.#calls++, ...call }] }));
    }
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    if (ev.data.trim() === '[DONE]') return this.#end();
    let d: Json;
    try {
      const parsed: unknown = JSON.parse(ev.data);
      if (!isObj(parsed)) return undefined;
      d = parsed;
    } catch {
      return this.#error('oracle sent a stream event that is not JSON', 'upstream_bad_response');
    }
    const out: SSEEvent[] = [];
    // An error in the stream: OCI's error body, or Cohere's errorMessage.
    if (typeof d.code === 'string' && typeof d.message === 'string' && d.message && !isObj(d.message))
      return this.#error(`${d.code}: ${d.message}`, d.code, d.code === 'TooManyRequests' ? 'rate_limit_error' : 'server_error');
    if (typeof d.errorMessage === 'string' && d.errorMessage) return this.#error(d.errorMessage, 'upstream_error');

    const usage = toOpenAIUsage(d.usage);
    if (usage) this.#usage = usage;
    const final = d.finishReason !== undefined && d.finishReason !== null;
    const choice = typeof d.index === 'number' && Number.isInteger(d.index) && d.index >= 0 && d.index < 128 ? d.index : 0;

    if (this.#format === 'COHERE' && !isObj(d.message)) {
      // The last event repeats the whole text: sent only when no delta came before it.
      if (typeof d.text === 'string' && (!final || !this.#sentText.has(0))) this.#text(out, d.text, 0);
      if (Array.isArray(d.toolCalls) && (!final || this.#calls === 0)) this.#cohereCalls(out, d.toolCalls);
    } else {
      const m = isObj(d.message) ? d.message : {};
      if (!final || !this.#sentText.has(choice)) this.#text(out, textOfParts(m.content), choice);
      if (typeof m.reasoningContent === 'string' && m.reasoningContent) {
        this.#start(out, choice);
        out.push(this.#out.delta({ reasoning_content: m.reasoningContent }, null, choice));
      }
      if (Array.isArray(m.toolCalls)) this.#genericCalls(out, m.toolCalls, choice);
    }
    if (final && !this.#finish.has(choice)) {
      this.#start(out, choice);
      const reason = finishReason(d.finishReason, this.#calls > 0);
      this.#finish.set(choice, reason);
      out.push(this.#out.delta({}, reason, choice));
    }
    return out;
  }

  /**
   * The end of the stream: proper after a finishReason (a choice that never got one, with `n` > 1,
   * finishes as `stop`), cut before one.
   */
  #end(): SSEEvent[] {
    if (this.#done) return [];
    if (!this.#finish.size) {
      if (!this.#started.size) {
        this.#done = true;
        return [];
      }
      return this.#error('The stream from oracle ended before its finishReason', 'stream_interrupted');
    }
    this.#done = true;
    const out: SSEEvent[] = [];
    for (const choice of this.#started) if (!this.#finish.has(choice)) out.push(this.#out.delta({}, 'stop', choice));
    if (this.#includeUsage && this.#usage) out.push(this.#out.usage(this.#usage));
    out.push(this.#out.done());
    return out;
  }

  flush(): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    const out = this.#end();
    return out.length ? out : undefined;
  }
}
