import { ErrorCode, GatewayError } from '@waygate/core';
import type { EndpointCodec, SSEEvent, StreamFormat, Usage } from '@waygate/core';
import { isObj, parseObject as parse } from '@waygate/provider-kit';
import { event, responseEvents } from './events.js';

/**
 * OpenAI's Responses wire format as the gateway needs to know it: which stream events carry
 * content, how a stream ends, what an error looks like, where usage is, and a codec between a whole
 * `Response` object and the typed event sequence OpenAI would have streamed.
 */

export { isObj } from '@waygate/provider-kit';
export type { Json } from '@waygate/provider-kit';
export { event } from './events.js';

/** The `type` of an event: its `event:` name, else the data's leading `type`. */
export function typeOf(ev: SSEEvent): string | undefined {
  if (ev.event !== undefined) return ev.event;
  const m = /^\{\s*"type"\s*:\s*"([a-z_.]+)"/.exec(ev.data);
  return m?.[1];
}

const END_TYPES = new Set(['response.completed', 'response.incomplete', 'response.failed']);
const PREAMBLE = new Set(['response.created', 'response.in_progress']);

/** The sequence_number after an event's (read from its data; 0 without one). */
function nextSequence(last: SSEEvent | undefined): number {
  const n = last && parse(last.data)?.sequence_number;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n + 1 : 0;
}

/** Responses usage → the kernel's OpenAI-style usage. */
export function usageFromResponses(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const out: Usage = {};
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  if (input !== undefined) out.prompt_tokens = input;
  if (output !== undefined) out.completion_tokens = output;
  const total = num(u.total_tokens) ?? (input !== undefined && output !== undefined ? input + output : undefined);
  if (total !== undefined) out.total_tokens = total;
  const cached = isObj(u.input_tokens_details) ? num(u.input_tokens_details.cached_tokens) : undefined;
  if (cached !== undefined) out.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = isObj(u.output_tokens_details) ? num(u.output_tokens_details.reasoning_tokens) : undefined;
  if (reasoning !== undefined) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return Object.keys(out).length ? out : undefined;
}

/** Usage and model of a `Response` JSON answer. */
export function responseUsage(json: unknown): { usage?: Usage; model?: string } | undefined {
  if (!isObj(json)) return undefined;
  const usage = usageFromResponses(json.usage);
  const model = typeof json.model === 'string' ? json.model : undefined;
  return usage || model ? { usage, model } : undefined;
}

/**
 * The Responses stream semantics. Content is anything but `response.created` and
 * `response.in_progress`; `response.completed` / `.incomplete` / `.failed` end it; an `error` event
 * or `response.failed` is a failure.
 */
export const RESPONSES_STREAM: StreamFormat = {
  isContent: (ev) => !PREAMBLE.has(typeOf(ev) ?? ''),
  isEnd: (ev) => END_TYPES.has(typeOf(ev) ?? ''),
  errorOf(ev, provider) {
    const type = typeOf(ev);
    if (type !== 'error' && type !== 'response.failed') return undefined;
    const data = parse(ev.data) ?? {};
    const inner = type === 'error' ? data : isObj(data.response) && isObj(data.response.error) ? data.response.error : {};
    const message = typeof inner.message === 'string' ? inner.message : 'error event';
    const code = typeof inner.code === 'string' ? inner.code : undefined;
    const status = code === 'rate_limit_exceeded' ? 429 : 500;
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${provider} sent an error event: ${message}`, {
      retryable: status === 429 || code === 'server_error',
      upstream: { status, body: { error: { message, type: code ?? 'server_error', code: code ?? null } } },
    });
  },
  // Numbered after the last event the client got (the core's relay passes it; 0 when there is none).
  errorEvent: (err, last) => event('error', { code: err.code, message: err.message, param: err.param ?? null }, nextSequence(last)),
  usage(ev) {
    if (!END_TYPES.has(typeOf(ev) ?? '')) return undefined;
    const data = parse(ev.data);
    return data && isObj(data.response) ? responseUsage(data.response) : undefined;
  },
};

/** The events a streaming client would have seen for a whole `Response`, and back. */
export const RESPONSES_CODEC: EndpointCodec = {
  toEvents: (json) => responseEvents(isObj(json) ? json : {}),
  fromEvents(events) {
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i]!;
      if (!END_TYPES.has(typeOf(ev) ?? '')) continue;
      const data = parse(ev.data);
      if (data && isObj(data.response)) return data.response;
    }
    return undefined;
  },
};
