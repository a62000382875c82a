import { ErrorCode, GatewayError } from '@waygate/core';
import type { EndpointCodec, SSEEvent, StreamFormat, Usage } from '@waygate/core';

/**
 * Anthropic's Messages wire format as the gateway needs to know it: which stream events carry
 * content, how a stream ends, what an error looks like (as a body and as an event), where usage is,
 * and a codec between a whole `Message` and the event sequence Anthropic would have streamed.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Messages JSON is built and read by path here, in request/response.ts and the tests
export type Json = Record<string, any>;

export const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Anthropic's error types, by the HTTP status Anthropic documents for each. */
export const ERROR_TYPE_BY_STATUS: Readonly<Record<number, string>> = Object.freeze({
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
});

/** The HTTP status Anthropic uses for each error type (for error events, which carry no status). */
export const STATUS_BY_ERROR_TYPE: Readonly<Record<string, number>> = Object.freeze({
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
});

/** Error types worth another attempt (here or at the next target). */
export const RETRYABLE_ERROR_TYPES: ReadonlySet<string> = new Set(['rate_limit_error', 'api_error', 'timeout_error', 'overloaded_error']);

/** Anthropic's error type for an HTTP status. */
export function errorTypeFor(status: number): string {
  const known = ERROR_TYPE_BY_STATUS[status];
  if (known) return known;
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

/** Whether a value is an Anthropic error body: `{"type":"error","error":{"type","message"}}`. */
export function isAnthropicErrorBody(body: unknown): body is { type: 'error'; error: { type: string; message: string } } {
  return isObj(body) && body.type === 'error' && isObj(body.error) && typeof body.error.type === 'string' && typeof body.error.message === 'string';
}

/**
 * The body of an error answer in Anthropic's shape. An upstream's own Anthropic-shaped body is
 * returned as it is (request_id and any new fields kept); anything else (the gateway's own errors,
 * an OpenAI-format upstream's errors) gets the type Anthropic uses for its status and the message.
 */
export function anthropicErrorBody(err: GatewayError): unknown {
  if (isAnthropicErrorBody(err.upstream?.body)) return err.upstream!.body;
  if (isAnthropicErrorBody(err.body)) return err.body;
  const type = STATUS_BY_ERROR_TYPE[err.type] !== undefined ? err.type : errorTypeFor(err.status);
  return { type: 'error', error: { type, message: err.message } };
}

/** A GatewayError for an Anthropic error body or event (status from the error type when none is given). */
export function errorFromAnthropic(body: unknown, provider: string, status?: number): GatewayError {
  const inner = isObj(body) && isObj(body.error) ? body.error : undefined;
  const type = typeof inner?.type === 'string' ? inner.type : 'api_error';
  const message = typeof inner?.message === 'string' ? inner.message : 'error event';
  const code = status ?? STATUS_BY_ERROR_TYPE[type] ?? 500;
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, code, `${provider} sent an error event: ${message}`, {
    retryable: RETRYABLE_ERROR_TYPES.has(type) || code === 429 || code >= 500,
    type,
    upstream: { status: code, body },
  });
}

/** One Anthropic stream event: `event: <type>` and the JSON data, whose `type` repeats the name. */
export function event(type: string, data: Json): SSEEvent {
  return { event: type, data: JSON.stringify({ type, ...data }) };
}

/** Whether an event is an error event (cheap: the event name, or the data's first bytes). */
function isErrorEvent(ev: SSEEvent): boolean {
  return ev.event === 'error' || ev.data.startsWith('{"type":"error"');
}

/** The type of an event: its `event:` name, else the data's `type`. */
function typeOf(ev: SSEEvent): string | undefined {
  if (ev.event !== undefined) return ev.event;
  const m = /^\{\s*"type"\s*:\s*"([a-z_]+)"/.exec(ev.data);
  return m?.[1];
}

/**
 * Anthropic usage → OpenAI-style usage. `prompt_tokens` counts every input token (uncached, read
 * from the cache and written to it), as the Anthropic provider's chat translation does; with
 * `partial` (a stream's message_delta), only the counts present are reported, so the kernel's merge
 * of a stream's usage events keeps the earlier ones.
 */
export function usageFromAnthropic(u: unknown, partial = false): Usage | undefined {
  if (!isObj(u)) return undefined;
  const num = (k: string): number | undefined => (typeof u[k] === 'number' ? u[k] : undefined);
  const input = num('input_tokens');
  const read = num('cache_read_input_tokens');
  const created = num('cache_creation_input_tokens');
  const output = num('output_tokens');
  const out: Usage = {};
  if (input !== undefined || !partial) {
    out.prompt_tokens = (input ?? 0) + (read ?? 0) + (created ?? 0);
    out.prompt_tokens_details = { cached_tokens: read ?? 0 };
  } else if (read !== undefined) {
    out.prompt_tokens_details = { cached_tokens: read };
  }
  if (output !== undefined || !partial) out.completion_tokens = output ?? 0;
  if (!partial) out.total_tokens = out.prompt_tokens! + out.completion_tokens!;
  if (read !== undefined) out.cache_read_input_tokens = read;
  if (created !== undefined) out.cache_creation_input_tokens = created;
  return Object.keys(out).length ? out : undefined;
}

/** Usage and model of a `Message` JSON answer. */
export function messageUsage(json: unknown): { usage?: Usage; model?: string } | undefined {
  if (!isObj(json)) return undefined;
  const usage = usageFromAnthropic(json.usage);
  const model = typeof json.model === 'string' ? json.model : undefined;
  return usage || model ? { usage, model } : undefined;
}

/**
 * Anthropic's stream semantics. Content is anything but `message_start` and `ping` (so the headers
 * are held until the first content block starts); `message_stop` is the proper end; `event: error`
 * is an error (`overloaded_error` and rate limits retryable).
 */
export const ANTHROPIC_STREAM: StreamFormat = {
  isContent(ev) {
    const type = typeOf(ev);
    return type !== 'message_start' && type !== 'ping';
  },
  isEnd: (ev) => typeOf(ev) === 'message_stop',
  errorOf(ev, provider) {
    if (!isErrorEvent(ev)) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(ev.data);
    } catch {
      body = ev.data;
    }
    return errorFromAnthropic(body, provider);
  },
  errorEvent: (err) => ({ event: 'error', data: JSON.stringify(anthropicErrorBody(err)) }),
  usage(ev) {
    // Cheap tests first: only message_start and message_delta carry usage.
    const data = ev.data;
    if (data.indexOf('"usage"') === -1) return undefined;
    const type = typeOf(ev);
    if (type !== 'message_start' && type !== 'message_delta') return undefined;
    let json: Json;
    try {
      json = JSON.parse(data);
    } catch {
      return undefined;
    }
    if (type === 'message_start') {
      const m = isObj(json.message) ? json.message : {};
      const usage = usageFromAnthropic(m.usage, true);
      const model = typeof m.model === 'string' ? m.model : undefined;
      return usage || model ? { usage, model } : undefined;
    }
    const usage = usageFromAnthropic(json.usage, true);
    return usage ? { usage } : undefined;
  },
};

/** Block types whose input arrives as `input_json_delta` fragments in a stream. */
const TOOL_INPUT_BLOCKS = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use']);

/**
 * A whole `Message` and the event sequence Anthropic would have streamed for it: `message_start`
 * (the message with empty content and no stop reason), per block `content_block_start` / deltas /
 * `content_block_stop` (text as `text_delta` plus a `citations_delta` per citation, thinking as
 * `thinking_delta` then one `signature_delta`, tool inputs as one `input_json_delta`, any other block
 * whole in its start event), `message_delta` (stop reason, output usage) and `message_stop`.
 */
export const ANTHROPIC_CODEC: EndpointCodec = {
  toEvents(json) {
    const msg = isObj(json) ? json : {};
    const blocks: unknown[] = Array.isArray(msg.content) ? msg.content : [];
    const usage = isObj(msg.usage) ? msg.usage : {};
    const out: SSEEvent[] = [];
    const head: Json = { ...msg, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } };
    out.push(event('message_start', { message: head }));
    blocks.forEach((raw, index) => {
      if (!isObj(raw)) return;
      const b = raw;
      if (b.type === 'text') {
        const { text, citations, ...rest } = b;
        out.push(event('content_block_start', { index, content_block: { ...rest, text: '' } }));
        if (typeof text === 'string' && text) out.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
        if (Array.isArray(citations)) {
          for (const citation of citations) out.push(event('content_block_delta', { index, delta: { type: 'citations_delta', citation } }));
        }
      } else if (b.type === 'thinking') {
        const { thinking, signature, ...rest } = b;
        out.push(event('content_block_start', { index, content_block: { ...rest, thinking: '', signature: '' } }));
        if (typeof thinking === 'string' && thinking) out.push(event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking } }));
        if (typeof signature === 'string' && signature) out.push(event('content_block_delta', { index, delta: { type: 'signature_delta', signature } }));
      } else if (TOOL_INPUT_BLOCKS.has(b.type)) {
        const { input, ...rest } = b;
        out.push(event('content_block_start', { index, content_block: { ...rest, input: {} } }));
        const partial_json = JSON.stringify(input ?? {});
        if (partial_json !== '{}') out.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
      } else {
        out.push(event('content_block_start', { index, content_block: b }));
      }
      out.push(event('content_block_stop', { index }));
    });
    const finalUsage: Json = { ...usage };
    out.push(event('message_delta', { delta: { stop_reason: msg.stop_reason ?? null, stop_sequence: msg.stop_sequence ?? null }, usage: finalUsage }));
    out.push(event('message_stop', {}));
    return out;
  },

  fromEvents(events) {
    let msg: Json | undefined;
    const content: Json[] = [];
    const inputs = new Map<number, string>();
    for (const ev of events) {
      if (isErrorEvent(ev)) continue;
      let d: Json;
      try {
        d = JSON.parse(ev.data);
      } catch {
        continue;
      }
      if (!isObj(d)) continue;
      switch (d.type ?? ev.event) {
        case 'message_start':
          msg = isObj(d.message) ? { ...d.message } : {};
          if (isObj(msg.usage)) msg.usage = { ...msg.usage };
          break;
        case 'content_block_start':
          if (isObj(d.content_block)) content[Number(d.index)] = { ...d.content_block };
          break;
        case 'content_block_delta': {
          const i = Number(d.index);
          const b = content[i];
          const delta = isObj(d.delta) ? d.delta : {};
          if (!b) break;
          if (delta.type === 'text_delta') b.text = (b.text ?? '') + (delta.text ?? '');
          else if (delta.type === 'thinking_delta') b.thinking = (b.thinking ?? '') + (delta.thinking ?? '');
          else if (delta.type === 'signature_delta') b.signature = (b.signature ?? '') + (delta.signature ?? '');
          else if (delta.type === 'citations_delta') (b.citations ??= []).push(delta.citation);
          else if (delta.type === 'input_json_delta') inputs.set(i, (inputs.get(i) ?? '') + (delta.partial_json ?? ''));
          break;
        }
        case 'message_delta': {
          msg ??= {};
          const delta = isObj(d.delta) ? d.delta : {};
          for (const k in delta) msg[k] = delta[k];
          if (isObj(d.usage)) {
            const usage: Json = isObj(msg.usage) ? msg.usage : (msg.usage = {});
            for (const k in d.usage) if (d.usage[k] !== null && d.usage[k] !== undefined) usage[k] = d.usage[k];
          }
          break;
        }
        default:
          break; // ping, content_block_stop, message_stop, and event types added later
      }
    }
    for (const [i, text] of inputs) {
      const b = content[i];
      if (!b) continue;
      try {
        b.input = text ? JSON.parse(text) : {};
      } catch {
        b.input = {};
      }
    }
    const out: Json = { ...(msg ?? {}), content: content.filter(Boolean) };
    out.type ??= 'message';
    out.role ??= 'assistant';
    out.stop_reason ??= null;
    out.stop_sequence ??= null;
    return out;
  },
};
