import { randomBytes } from 'node:crypto';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { isObj } from './format.js';
import type { Json } from './format.js';
import { deltaEvent, doneEvent, event, part } from './events.js';
import type { PartKind } from './events.js';

/**
 * A chat.completions answer → a Responses `Response`, as JSON and as the typed event stream
 * (response.created … response.completed) a Responses client expects, field by field as OpenAI's
 * API reference (openai/openai-openapi) defines them.
 */

export const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;
const DONE = '[DONE]';
const now = (): number => Math.floor(Date.now() / 1000);

/** Chat usage → Responses usage (every detail field is required by the spec). */
export function toResponsesUsage(u: unknown): Json | undefined {
  if (!isObj(u)) return undefined;
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const input = n(u.prompt_tokens);
  const output = n(u.completion_tokens);
  const ptd: Json = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: n(ptd.cached_tokens), cache_write_tokens: n(u.cache_creation_input_tokens) || n(ptd.cache_write_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: isObj(u.completion_tokens_details) ? n(u.completion_tokens_details.reasoning_tokens) : 0 },
    total_tokens: typeof u.total_tokens === 'number' ? u.total_tokens : input + output,
  };
}

/** The tools a `Response` echoes: a function tool's `parameters` and `strict` are required (nullable). */
function echoTools(tools: unknown): unknown[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((t: unknown) =>
    isObj(t) && t.type === 'function' ? { ...t, parameters: t.parameters ?? null, strict: typeof t.strict === 'boolean' ? t.strict : null } : t,
  );
}

/** The `text` a `Response` echoes: the format the bridge applied (a json_schema format always has its `name`, as the chat request got it). */
function echoText(text: unknown): Json {
  const t: Json = { format: { type: 'text' }, ...(isObj(text) ? text : {}) };
  if (isObj(t.format) && t.format.type === 'json_schema' && typeof t.format.name !== 'string') t.format = { ...t.format, name: 'response' };
  return t;
}

/** The request's settings a `Response` echoes, with its id, time and model. No `usage` until there is some. */
export function baseResponse(req: Json, id: string, createdAt: number, model: unknown): Json {
  const r: Json = {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: typeof model === 'string' && model ? model : (req.model ?? ''),
    output: [],
    parallel_tool_calls: typeof req.parallel_tool_calls === 'boolean' ? req.parallel_tool_calls : true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: isObj(req.reasoning) ? (req.reasoning.effort ?? null) : null, summary: null },
    store: req.store ?? true,
    temperature: req.temperature ?? null,
    text: echoText(req.text),
    tool_choice: req.tool_choice ?? 'auto',
    tools: echoTools(req.tools),
    top_p: req.top_p ?? null,
    truncation: req.truncation ?? 'disabled',
    metadata: isObj(req.metadata) ? req.metadata : {},
  };
  // `user` is a string when present, never null.
  if (typeof req.user === 'string') r.user = req.user;
  return r;
}

/** Status, incomplete_details and completed_at for a chat finish reason. */
function finishStatus(finish: unknown): { status: string; incomplete_details: Json | null; completed_at: number | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, completed_at: null };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, completed_at: null };
  return { status: 'completed', incomplete_details: null, completed_at: now() };
}

const cutShort = (finish: unknown): boolean => finish === 'length' || finish === 'content_filter';

/** The error codes a `Response.error` may carry (ResponseErrorCode). */
const RESPONSE_ERROR_CODES = new Set([
  'server_error',
  'rate_limit_exceeded',
  'invalid_prompt',
  'data_residency_mismatch',
  'bio_policy',
  'vector_store_timeout',
  'invalid_image',
  'invalid_image_format',
  'invalid_base64_image',
  'invalid_image_url',
  'image_too_large',
  'image_too_small',
  'image_parse_error',
  'image_content_policy_violation',
  'invalid_image_mode',
  'image_file_too_large',
  'unsupported_image_media_type',
  'empty_image_file',
  'failed_to_download_image',
  'image_file_not_found',
]);

/** An upstream error's code or type → one of the codes the spec allows (a rate limit stays one, the rest are server errors). */
export function responseErrorCode(e: Json): string {
  for (const c of [e.code, e.type]) if (typeof c === 'string' && RESPONSE_ERROR_CODES.has(c)) return c;
  return [e.code, e.type].some((c) => typeof c === 'string' && /rate_limit/.test(c)) ? 'rate_limit_exceeded' : 'server_error';
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: unknown) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

const messageItem = (kind: PartKind, text: string): Json => ({
  type: 'message',
  id: newId('msg_'),
  status: 'completed',
  role: 'assistant',
  content: [part(kind, text)],
});
const reasoningItem = (text: string): Json => ({
  type: 'reasoning',
  id: newId('rs_'),
  summary: [],
  content: [part('reasoning_text', text)],
  status: 'completed',
});

/** A chat.completions answer → a `Response`. */
export function toResponse(chat: Json, req: Json): Json {
  const choice = Array.isArray(chat.choices) ? chat.choices.find((c: unknown) => isObj(c) && (c.index ?? 0) === 0) : undefined;
  const m: Json = isObj(choice) && isObj(choice.message) ? choice.message : {};
  const finish = isObj(choice) ? choice.finish_reason : undefined;
  const output: Json[] = [];
  if (typeof m.reasoning_content === 'string' && m.reasoning_content) output.push(reasoningItem(m.reasoning_content));
  const text = textOf(m.content);
  if (text) output.push(messageItem('output_text', text));
  else if (typeof m.refusal === 'string' && m.refusal) output.push(messageItem('refusal', m.refusal));
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
  // The item the model was writing when it was cut short is incomplete.
  if (cutShort(finish) && output.length) output[output.length - 1]!.status = 'incomplete';
  // created_at is the gateway's clock: an upstream's `created` may be skewed, or old (a cached answer).
  const r: Json = { ...baseResponse(req, newId('resp_'), now(), chat.model), ...finishStatus(finish), output };
  const usage = toResponsesUsage(chat.usage);
  if (usage) r.usage = usage;
  return r;
}

function toList(x: SSEEvent | SSEEvent[] | undefined): SSEEvent[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

type Open = { kind: PartKind; index: number; item: Json; text: string } | { kind: 'call'; index: number; item: Json; args: string };

const PREAMBLE = new Set(['response.created', 'response.in_progress']);

/** Turns canonical chat chunks (after the provider's own transformer) into Responses stream events. */
export class ResponsesStreamWriter implements StreamTransformer {
  readonly #inner: StreamTransformer | undefined;
  readonly #request: Json;
  #resp: Json | undefined;
  #seq = 0;
  #done = false;
  /** Whether events past the preamble were handed out: the client has seen the stream (the kernel released it). */
  #shown = false;
  readonly #output: Json[] = [];
  #open: Open | undefined;
  /** Chat tool call index → its function_call item. */
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
    try {
      for (const e of this.#inner ? toList(this.#inner.transform(ev)) : [ev]) this.#chunk(e, out);
    } catch (err) {
      return this.#fail(err as Error, out);
    }
    return this.#hand(out);
  }

  flush(): SSEEvent[] | undefined {
    const out: SSEEvent[] = [];
    try {
      if (this.#inner?.flush && !this.#done) for (const e of toList(this.#inner.flush())) this.#chunk(e, out);
      if (!this.#done && this.#resp) {
        if (this.#finish === undefined)
          throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'the upstream closed the stream before its proper end', { retryable: true });
        this.#end(out);
      }
    } catch (err) {
      return this.#fail(err as Error, out);
    }
    return this.#hand(out);
  }

  #hand(out: SSEEvent[]): SSEEvent[] {
    if (!this.#shown && out.some((e) => !PREAMBLE.has(e.event ?? ''))) this.#shown = true;
    return out;
  }

  /**
   * A failure the writer meets. Before the client saw anything it is thrown (the attempt fails, and
   * can be retried or fall back); after, the stream ends with an `error` event numbered in sequence
   * (the kernel's own terminal event cannot know the sequence).
   */
  #fail(err: Error, out: SSEEvent[]): SSEEvent[] {
    if (!this.#shown) throw err;
    this.#done = true;
    this.#emit(out, 'error', { code: ErrorCode.STREAM_INTERRUPTED, message: `The stream failed after it started: ${err.message}`, param: null });
    return out;
  }

  #emit(out: SSEEvent[], type: string, data: Json): void {
    out.push(event(type, data, this.#seq++));
  }

  #start(chunk: Json, out: SSEEvent[]): void {
    this.#resp = baseResponse(this.#request, newId('resp_'), now(), chunk.model);
    this.#emit(out, 'response.created', { response: this.#resp });
    this.#emit(out, 'response.in_progress', { response: this.#resp });
  }

  /** Ends the open item: its done events, with `status` (incomplete when the answer was cut short, or failed). */
  #close(out: SSEEvent[], status = cutShort(this.#finish) ? 'incomplete' : 'completed'): void {
    const o = this.#open;
    if (!o) return;
    this.#open = undefined;
    const id = o.item.id;
    if (o.kind === 'call') {
      this.#emit(out, 'response.function_call_arguments.done', { item_id: id, output_index: o.index, name: o.item.name, arguments: o.args });
      o.item = { ...o.item, status, arguments: o.args };
    } else {
      const at = { item_id: id, output_index: o.index, content_index: 0 };
      const p = part(o.kind, o.text);
      const done = doneEvent(o.kind, o.text);
      this.#emit(out, done.type, { ...at, ...done.data });
      this.#emit(out, 'response.content_part.done', { ...at, part: p });
      o.item = { ...o.item, status, content: [p] };
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

  /** Text of one part kind: appended to the open item of that kind, else a new item (a message, or a reasoning item). */
  #content(kind: PartKind, text: string, out: SSEEvent[]): void {
    let o = this.#open;
    if (o?.kind !== kind) {
      const item =
        kind === 'reasoning_text'
          ? { type: 'reasoning', id: newId('rs_'), summary: [], content: [], status: 'in_progress' }
          : { type: 'message', id: newId('msg_'), status: 'in_progress', role: 'assistant', content: [] };
      const index = this.#add(out, item);
      o = this.#open = { kind, index, item, text: '' };
      this.#emit(out, 'response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: part(kind, '') });
    }
    o.text += text;
    const d = deltaEvent(kind);
    this.#emit(out, d.type, { item_id: o.item.id, output_index: o.index, content_index: 0, delta: text, ...d.extra });
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
    const resp: Json = { ...this.#resp!, ...finishStatus(this.#finish), output: this.#output };
    const usage = toResponsesUsage(this.#usage);
    if (usage) resp.usage = usage;
    this.#resp = resp;
    this.#emit(out, resp.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: resp });
    this.#done = true;
  }

  #error(body: unknown, out: SSEEvent[]): void {
    this.#done = true;
    const e = isObj(body) && isObj(body.error) ? body.error : {};
    const error = { code: responseErrorCode(e), message: typeof e.message === 'string' ? e.message : 'the upstream failed' };
    if (!this.#resp) this.#start({}, out);
    this.#close(out, 'incomplete');
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
    if (typeof delta.reasoning_content === 'string' && delta.reasoning_content) this.#content('reasoning_text', delta.reasoning_content, out);
    const text = textOf(delta.content);
    if (text) this.#content('output_text', text, out);
    if (typeof delta.refusal === 'string' && delta.refusal) this.#content('refusal', delta.refusal, out);
    if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isObj(tc)) this.#toolCall(tc, out);
    if (choice.finish_reason) {
      this.#finish = choice.finish_reason;
      this.#close(out);
    }
  }
}
