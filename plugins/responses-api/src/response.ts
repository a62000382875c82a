import { randomBytes } from 'node:crypto';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { event, isObj } from './format.js';
import type { Json } from './format.js';

/**
 * A chat.completions answer → a Responses `Response`, as JSON and as the typed event stream
 * (response.created … response.completed) a Responses client expects.
 */

export const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;
const DONE = '[DONE]';

/** Chat usage → Responses usage. */
export function toResponsesUsage(u: unknown): Json | null {
  if (!isObj(u)) return null;
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const input = n(u.prompt_tokens);
  const output = n(u.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: isObj(u.prompt_tokens_details) ? n(u.prompt_tokens_details.cached_tokens) : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: isObj(u.completion_tokens_details) ? n(u.completion_tokens_details.reasoning_tokens) : 0 },
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : input + output,
  };
}

/** The request's settings a `Response` echoes, with its id, time and model. */
export function baseResponse(req: Json, id: string, createdAt: number, model: unknown): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: typeof model === 'string' && model ? model : (req.model ?? ''),
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: isObj(req.reasoning) ? (req.reasoning.effort ?? null) : null, summary: null },
    store: req.store ?? true,
    temperature: req.temperature ?? null,
    text: isObj(req.text) ? req.text : { format: { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: Array.isArray(req.tools) ? req.tools : [],
    top_p: req.top_p ?? null,
    truncation: req.truncation ?? 'disabled',
    usage: null,
    user: req.user ?? null,
    metadata: isObj(req.metadata) ? req.metadata : {},
  };
}

/** Status and incomplete_details for a chat finish reason. */
function finishStatus(finish: unknown): { status: string; incomplete_details: Json | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: unknown) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

const messageItem = (text: string, status: string): Json => ({
  type: 'message',
  id: newId('msg_'),
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
});

/** A chat.completions answer → a `Response`. */
export function toResponse(chat: Json, req: Json): Json {
  const choice = Array.isArray(chat.choices) ? chat.choices.find((c: unknown) => isObj(c) && (c.index ?? 0) === 0) : undefined;
  const m: Json = isObj(choice) && isObj(choice.message) ? choice.message : {};
  const output: Json[] = [];
  const text = textOf(m.content) || (typeof m.refusal === 'string' ? m.refusal : '');
  if (text) output.push(messageItem(text, 'completed'));
  for (const tc of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
    if (!isObj(tc) || !isObj(tc.function)) continue;
    const callId = typeof tc.id === 'string' && tc.id ? tc.id : newId('call_');
    output.push({
      type: 'function_call',
      id: newId('fc_'),
      call_id: callId,
      name: String(tc.function.name ?? ''),
      arguments: String(tc.function.arguments ?? ''),
      status: 'completed',
    });
  }
  const created = typeof chat.created === 'number' ? chat.created : Math.floor(Date.now() / 1000);
  return {
    ...baseResponse(req, newId('resp_'), created, chat.model),
    ...finishStatus(isObj(choice) ? choice.finish_reason : undefined),
    output,
    usage: toResponsesUsage(chat.usage),
  };
}

function toList(x: SSEEvent | SSEEvent[] | undefined): SSEEvent[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

type Open = { kind: 'message'; index: number; item: Json; text: string } | { kind: 'call'; index: number; item: Json; args: string };

/** Turns canonical chat chunks (after the provider's own transformer) into Responses stream events. */
export class ResponsesStreamWriter implements StreamTransformer {
  readonly #inner: StreamTransformer | undefined;
  readonly #request: Json;
  #resp: Json | undefined;
  #seq = 0;
  #done = false;
  readonly #output: Json[] = [];
  #open: Open | undefined;
  /** Chat tool call index → its open function_call item. */
  readonly #calls = new Map<number, Open & { kind: 'call' }>();
  #finish: unknown;
  #usage: unknown;

  constructor(request: Json, inner?: StreamTransformer) {
    this.#request = request;
    this.#inner = inner;
  }

  /** The `Response` as it stands (for tests and storage). */
  get response(): Json | undefined {
    return this.#resp;
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    const out: SSEEvent[] = [];
    for (const e of this.#inner ? toList(this.#inner.transform(ev)) : [ev]) this.#chunk(e, out);
    return out;
  }

  flush(): SSEEvent[] | undefined {
    const out: SSEEvent[] = [];
    if (this.#inner?.flush && !this.#done) for (const e of toList(this.#inner.flush())) this.#chunk(e, out);
    if (!this.#done && this.#resp) {
      if (this.#finish === undefined)
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'the upstream closed the stream before its proper end', { retryable: true });
      this.#end(out);
    }
    return out;
  }

  #emit(out: SSEEvent[], type: string, data: Json): void {
    out.push(event(type, data, this.#seq++));
  }

  #start(chunk: Json, out: SSEEvent[]): void {
    const created = typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000);
    this.#resp = baseResponse(this.#request, newId('resp_'), created, chunk.model);
    this.#emit(out, 'response.created', { response: this.#resp });
    this.#emit(out, 'response.in_progress', { response: this.#resp });
  }

  #close(out: SSEEvent[]): void {
    const o = this.#open;
    if (!o) return;
    this.#open = undefined;
    const id = o.item.id;
    if (o.kind === 'message') {
      const part = { type: 'output_text', text: o.text, annotations: [] };
      this.#emit(out, 'response.output_text.done', { item_id: id, output_index: o.index, content_index: 0, text: o.text, logprobs: [] });
      this.#emit(out, 'response.content_part.done', { item_id: id, output_index: o.index, content_index: 0, part });
      o.item = { ...o.item, status: 'completed', content: [part] };
    } else {
      this.#emit(out, 'response.function_call_arguments.done', { item_id: id, output_index: o.index, name: o.item.name, arguments: o.args });
      o.item = { ...o.item, status: 'completed', arguments: o.args };
    }
    this.#output[o.index] = o.item;
    this.#emit(out, 'response.output_item.done', { output_index: o.index, item: o.item });
  }

  #add(out: SSEEvent[], item: Json): number {
    this.#close(out);
    const index = this.#output.length;
    this.#output.push(item);
    this.#emit(out, 'response.output_item.added', { output_index: index, item });
    return index;
  }

  #text(text: string, out: SSEEvent[]): void {
    let o = this.#open;
    if (o?.kind !== 'message') {
      const item = { type: 'message', id: newId('msg_'), status: 'in_progress', role: 'assistant', content: [] };
      const index = this.#add(out, item);
      o = this.#open = { kind: 'message', index, item, text: '' };
      this.#emit(out, 'response.content_part.added', {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
    }
    o.text += text;
    this.#emit(out, 'response.output_text.delta', { item_id: o.item.id, output_index: o.index, content_index: 0, delta: text, logprobs: [] });
  }

  #toolCall(tc: Json, out: SSEEvent[]): void {
    const n = typeof tc.index === 'number' ? tc.index : 0;
    const fn = isObj(tc.function) ? tc.function : {};
    let o = this.#calls.get(n);
    if (!o) {
      const callId = typeof tc.id === 'string' && tc.id ? tc.id : newId('call_');
      const item = { type: 'function_call', id: newId('fc_'), call_id: callId, name: String(fn.name ?? ''), arguments: '', status: 'in_progress' };
      const index = this.#add(out, item);
      o = { kind: 'call', index, item, args: '' };
      this.#calls.set(n, o);
      this.#open = o;
    }
    if (typeof fn.arguments === 'string' && fn.arguments) {
      o.args += fn.arguments;
      if (this.#open === o) this.#emit(out, 'response.function_call_arguments.delta', { item_id: o.item.id, output_index: o.index, delta: fn.arguments });
      else this.#output[o.index] = { ...this.#output[o.index], arguments: o.args };
    }
  }

  #end(out: SSEEvent[]): void {
    this.#close(out);
    const resp = { ...this.#resp!, ...finishStatus(this.#finish), output: this.#output, usage: toResponsesUsage(this.#usage) };
    this.#resp = resp;
    this.#emit(out, resp.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: resp });
    this.#done = true;
  }

  #error(body: unknown, out: SSEEvent[]): void {
    this.#done = true;
    const e = isObj(body) && isObj(body.error) ? body.error : {};
    const error = {
      code: typeof e.code === 'string' ? e.code : 'server_error',
      message: typeof e.message === 'string' ? e.message : 'the upstream failed',
    };
    if (!this.#resp) this.#start({}, out);
    this.#resp = { ...this.#resp!, status: 'failed', error, output: this.#output };
    this.#emit(out, 'response.failed', { response: this.#resp });
  }

  #chunk(ev: SSEEvent, out: SSEEvent[]): void {
    if (this.#done) return;
    if (ev.data === DONE) {
      if (!this.#resp) this.#start({}, out);
      return this.#end(out);
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(ev.data);
    } catch {
      if (ev.event === 'error') return this.#error({ error: { message: ev.data } }, out);
      throw new Error(`the upstream sent a stream event that is not JSON: ${ev.data.slice(0, 200)}`);
    }
    if (ev.event === 'error' || (isObj(chunk) && chunk.error !== undefined && chunk.error !== null)) return this.#error(chunk, out);
    if (!isObj(chunk)) return;
    if (!this.#resp) this.#start(chunk, out);
    if (isObj(chunk.usage)) this.#usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c: unknown) => isObj(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObj(choice)) return;
    const delta: Json = isObj(choice.delta) ? choice.delta : {};
    const text = textOf(delta.content) || (typeof delta.refusal === 'string' ? delta.refusal : '');
    if (text) this.#text(text, out);
    if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isObj(tc)) this.#toolCall(tc, out);
    if (choice.finish_reason) {
      this.#finish = choice.finish_reason;
      this.#close(out);
    }
  }
}
