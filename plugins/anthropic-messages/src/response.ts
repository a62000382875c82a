import { ErrorCode, GatewayError, DONE } from '@waygate/core';
import type { SSEEvent, StreamTransformer } from '@waygate/core';
import { randomBytes } from 'node:crypto';
import { nestedDeeper } from '@waygate/provider-kit';
import { event, isObj, STATUS_BY_ERROR_TYPE, errorTypeFor } from './format.js';
import type { Json } from './format.js';

/**
 * OpenAI chat.completions answers → Anthropic Messages answers: the JSON `chat.completion` as a
 * `Message`, and a `chat.completion.chunk` stream as Anthropic's event sequence.
 */

const STOP: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

/**
 * OpenAI's finish_reason as Anthropic's stop_reason. A `stop` is `stop_sequence` when the upstream
 * names the stop string it matched (vLLM's `stop_reason`) and the request asked for it; a `stop`
 * with tool calls in the answer is `tool_use` (some providers say `stop` there).
 */
export function stopReason(
  finish: unknown,
  opts: { matched?: unknown; stopSequences?: unknown; hasToolUse?: boolean } = {},
): { stop_reason: string; stop_sequence: string | null } {
  const reason = typeof finish === 'string' ? (STOP[finish] ?? 'end_turn') : 'end_turn';
  if (reason === 'end_turn') {
    const seqs = opts.stopSequences;
    if (typeof opts.matched === 'string' && Array.isArray(seqs) && seqs.includes(opts.matched)) {
      return { stop_reason: 'stop_sequence', stop_sequence: opts.matched };
    }
    if (opts.hasToolUse) return { stop_reason: 'tool_use', stop_sequence: null };
  }
  return { stop_reason: reason, stop_sequence: null };
}

/** OpenAI usage → Anthropic usage: cached prompt tokens are reported apart, as Anthropic does. */
export function toAnthropicUsage(u: unknown): Json {
  const usage = isObj(u) ? u : {};
  const prompt = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const details = isObj(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const cached = typeof details.cached_tokens === 'number' ? details.cached_tokens : 0;
  const output = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  return {
    input_tokens: Math.max(0, prompt - cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: output,
  };
}

/** A tool call's `arguments` (JSON text) as a tool_use `input` object; unparsable text (or nested past the limit) gives `{}`. */
export function parseInput(args: unknown): Json {
  if (isObj(args)) return args;
  if (typeof args !== 'string' || !args.trim() || nestedDeeper(args)) return {};
  try {
    const v = JSON.parse(args);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

const newId = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

/** The text of an OpenAI message content (a string, or an array of text parts). */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Translates an OpenAI `chat.completion` to an Anthropic `Message` (choice 0). `request` is the client's Anthropic request. */
export function toMessage(chat: Json, request: Json = {}): Json {
  const choice: Json = Array.isArray(chat.choices) && isObj(chat.choices[0]) ? chat.choices[0] : {};
  const m: Json = isObj(choice.message) ? choice.message : {};
  const content: Json[] = [];
  const text = contentText(m.content);
  if (text) content.push({ type: 'text', text });
  if (typeof m.refusal === 'string' && m.refusal) content.push({ type: 'text', text: m.refusal });
  const calls: unknown[] = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  for (const call of calls) {
    if (!isObj(call)) continue;
    const fn = isObj(call.function) ? call.function : {};
    content.push({
      type: 'tool_use',
      id: typeof call.id === 'string' && call.id ? call.id : newId('toolu_'),
      name: String(fn.name ?? ''),
      input: parseInput(fn.arguments),
    });
  }
  if (isObj(m.function_call)) {
    content.push({ type: 'tool_use', id: newId('toolu_'), name: String(m.function_call.name ?? ''), input: parseInput(m.function_call.arguments) });
  }
  const refused = choice.finish_reason === 'content_filter' || (typeof m.refusal === 'string' && m.refusal !== '');
  const stop = refused
    ? { stop_reason: 'refusal', stop_sequence: null }
    : stopReason(choice.finish_reason, {
        matched: choice.stop_reason,
        stopSequences: request.stop_sequences,
        hasToolUse: content.some((b) => b.type === 'tool_use'),
      });
  return {
    id: typeof chat.id === 'string' && chat.id ? chat.id : newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: chat.model ?? request.model ?? '',
    content,
    ...stop,
    usage: toAnthropicUsage(chat.usage),
  };
}

/** An OpenAI error event's body as Anthropic's error shape (its type when it is one of Anthropic's). */
export function anthropicErrorFromOpenAI(body: unknown, fallbackMessage = 'stream error'): Json {
  const inner = isObj(body) && isObj(body.error) ? body.error : undefined;
  const message = typeof inner?.message === 'string' ? inner.message : fallbackMessage;
  const raw = typeof inner?.type === 'string' ? inner.type : undefined;
  const code = typeof inner?.code === 'number' ? inner.code : Number(inner?.code);
  const type = raw && STATUS_BY_ERROR_TYPE[raw] !== undefined ? raw : Number.isInteger(code) && code >= 400 ? errorTypeFor(code) : 'api_error';
  return { type: 'error', error: { type, message } };
}

function toList(x: SSEEvent | SSEEvent[] | undefined): SSEEvent[] {
  if (x === undefined) return [];
  return Array.isArray(x) ? x : [x];
}

/**
 * Turns an OpenAI `chat.completion.chunk` stream (from the upstream, or from the provider's own
 * stream transformer, `inner`) into Anthropic's event sequence: `message_start` at the first chunk;
 * a text block for content deltas and a `tool_use` block per tool call (`input_json_delta` for its
 * argument fragments), each closed with `content_block_stop` before the next opens; at `[DONE]`,
 * `message_delta` (stop reason, usage) and `message_stop`. OpenAI error events become Anthropic
 * `error` events. A stream that ends before its finish is a failure, not a clean close.
 */
export class MessagesStreamWriter implements StreamTransformer {
  readonly #inner: StreamTransformer | undefined;
  readonly #request: Json;
  #started = false;
  #done = false;
  /** The next content block's index, and the open block (if any). */
  #next = 0;
  #open: { index: number; type: string } | undefined;
  /** OpenAI tool call index → Anthropic content block index. */
  readonly #tools = new Map<number, number>();
  #finish: unknown;
  #refused = false;
  #matched: unknown;
  #usage: unknown;

  constructor(request: Json, inner?: StreamTransformer) {
    this.#request = request;
    this.#inner = inner;
  }

  transform(ev: SSEEvent): SSEEvent[] | undefined {
    if (this.#done) return undefined;
    const out: SSEEvent[] = [];
    if (this.#inner) for (const e of toList(this.#inner.transform(ev))) this.#chunk(e, out);
    else this.#chunk(ev, out);
    return out;
  }

  flush(): SSEEvent[] | undefined {
    const out: SSEEvent[] = [];
    if (this.#inner?.flush && !this.#done) for (const e of toList(this.#inner.flush())) this.#chunk(e, out);
    if (!this.#done && this.#started) {
      // A finish reason arrived but no [DONE]: the answer is whole. No finish: the stream was cut.
      if (this.#finish !== undefined) this.#end(out);
      else {
        throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'the upstream closed the stream before its proper end', { retryable: true });
      }
    }
    return out;
  }

  #start(chunk: Json, out: SSEEvent[]): void {
    this.#started = true;
    out.push(
      event('message_start', {
        message: {
          id: typeof chunk.id === 'string' && chunk.id ? chunk.id : newId('msg_'),
          type: 'message',
          role: 'assistant',
          model: chunk.model ?? this.#request.model ?? '',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    );
  }

  #close(out: SSEEvent[]): void {
    if (!this.#open) return;
    out.push(event('content_block_stop', { index: this.#open.index }));
    this.#open = undefined;
  }

  #openBlock(type: string, block: Json, out: SSEEvent[]): number {
    this.#close(out);
    const index = this.#next++;
    this.#open = { index, type };
    out.push(event('content_block_start', { index, content_block: block }));
    return index;
  }

  #text(text: string, out: SSEEvent[]): void {
    const index = this.#open?.type === 'text' ? this.#open.index : this.#openBlock('text', { type: 'text', text: '' }, out);
    out.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
  }

  #toolCall(tc: Json, out: SSEEvent[]): void {
    const n = typeof tc.index === 'number' ? tc.index : 0;
    const fn = isObj(tc.function) ? tc.function : {};
    let index = this.#tools.get(n);
    if (index === undefined) {
      const id = typeof tc.id === 'string' && tc.id ? tc.id : newId('toolu_');
      index = this.#openBlock('tool_use', { type: 'tool_use', id, name: String(fn.name ?? ''), input: {} }, out);
      this.#tools.set(n, index);
    }
    if (typeof fn.arguments === 'string' && fn.arguments) {
      out.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: fn.arguments } }));
    }
  }

  #end(out: SSEEvent[]): void {
    this.#close(out);
    const hasToolUse = this.#tools.size > 0;
    const stop =
      this.#refused || this.#finish === 'content_filter'
        ? { stop_reason: 'refusal', stop_sequence: null }
        : stopReason(this.#finish, { matched: this.#matched, stopSequences: this.#request.stop_sequences, hasToolUse });
    const usage = this.#usage !== undefined ? toAnthropicUsage(this.#usage) : { output_tokens: 0 };
    out.push(event('message_delta', { delta: stop, usage }));
    out.push(event('message_stop', {}));
    this.#done = true;
  }

  #error(body: unknown, out: SSEEvent[]): void {
    this.#done = true;
    out.push({ event: 'error', data: JSON.stringify(anthropicErrorFromOpenAI(body)) });
  }

  #chunk(ev: SSEEvent, out: SSEEvent[]): void {
    if (this.#done) return;
    const data = ev.data;
    if (data === DONE) {
      if (!this.#started) this.#start({}, out);
      this.#end(out);
      return;
    }
    let chunk: Json;
    try {
      chunk = JSON.parse(data);
    } catch {
      if (ev.event === 'error') return this.#error({ error: { message: data } }, out);
      throw new Error(`the upstream sent a stream event that is not JSON: ${data.slice(0, 200)}`);
    }
    if (ev.event === 'error' || (isObj(chunk) && chunk.error !== undefined && chunk.error !== null)) return this.#error(chunk, out);
    if (!isObj(chunk)) return;
    if (!this.#started) this.#start(chunk, out);
    if (isObj(chunk.usage)) this.#usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c: unknown) => isObj(c) && (c.index ?? 0) === 0) : undefined;
    if (!isObj(choice)) return;
    const delta: Json = isObj(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content) this.#text(delta.content, out);
    else if (Array.isArray(delta.content)) {
      const t = contentText(delta.content);
      if (t) this.#text(t, out);
    }
    if (typeof delta.refusal === 'string' && delta.refusal) {
      this.#refused = true;
      this.#text(delta.refusal, out);
    }
    if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isObj(tc)) this.#toolCall(tc, out);
    if (isObj(delta.function_call)) this.#toolCall({ index: 0, function: delta.function_call }, out);
    if (choice.finish_reason) {
      this.#finish = choice.finish_reason;
      if (choice.stop_reason !== undefined) this.#matched = choice.stop_reason;
      this.#close(out);
    }
  }
}
