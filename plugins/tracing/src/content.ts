/**
 * What an answer says, for the span: its finish reasons read from a stream's events as they pass
 * (a cheap test per event, a parse only of the few that carry one), and its messages in the GenAI
 * conventions' `gen_ai.output.messages` shape (role, parts of text / tool calls / reasoning, finish
 * reason) from a JSON answer of OpenAI's chat or completions, Anthropic's messages or the Responses
 * API, every text passed through a function (redaction, the size bound).
 */
import type { SSEEvent } from '@waygate/core';
import { isObj, parseObject as parse } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/** Collects the finish reasons of one stream, by choice index. */
export type FinishReader = (ev: SSEEvent, into: string[]) => void;

/**
 * OpenAI's chunks (chat and completions): only a chunk whose last `"finish_reason":` is a string (not
 * `null`) is parsed. Searched from the end, where a choice's finish reason is: a few dozen characters
 * scanned per chunk (about 50 ns), not the whole chunk; a chunk's choices are read in full once
 * parsed. (A chunk of several choices whose last is unfinished is not parsed: streams send one choice
 * per chunk.)
 */
const openAIFinish: FinishReader = (ev, into) => {
  const d = ev.data;
  const at = d.lastIndexOf('"finish_reason":');
  if (at === -1) return;
  let c = d.charCodeAt(at + 16);
  if (c === 32) c = d.charCodeAt(at + 17);
  if (c !== 34) return;
  const chunk = parse(d);
  if (!chunk || !Array.isArray(chunk.choices)) return;
  for (const ch of chunk.choices as unknown[]) {
    if (!isObj(ch) || typeof ch.finish_reason !== 'string') continue;
    const i = typeof ch.index === 'number' && Number.isInteger(ch.index) && ch.index >= 0 && ch.index < 1024 ? ch.index : 0;
    into[i] = ch.finish_reason;
  }
};

/** Anthropic's `message_delta` carries the stop reason. */
const anthropicFinish: FinishReader = (ev, into) => {
  if (ev.event !== undefined ? ev.event !== 'message_delta' : !ev.data.startsWith('{"type":"message_delta"')) return;
  const d = parse(ev.data);
  const reason = isObj(d?.delta) ? d.delta.stop_reason : undefined;
  if (typeof reason === 'string') into[0] = reason;
};

const RESPONSE_ENDS = new Set(['response.completed', 'response.incomplete', 'response.failed']);
/** The Responses stream's last event holds the whole response: its status (as a JSON answer's). */
const responsesFinish: FinishReader = (ev, into) => {
  if (ev.event !== undefined ? !RESPONSE_ENDS.has(ev.event) : !/^\{"type":"response\.(completed|incomplete|failed)"/.test(ev.data)) return;
  const d = parse(ev.data);
  const status = isObj(d?.response) ? d.response.status : undefined;
  if (typeof status === 'string') into[0] = status;
};

const READERS: Record<string, FinishReader> = {
  'chat.completions': openAIFinish,
  completions: openAIFinish,
  messages: anthropicFinish,
  responses: responsesFinish,
};

/** The finish-reason reader of an endpoint's streams, if the plugin understands them. */
export const finishReader = (endpoint: string): FinishReader | undefined => READERS[endpoint];

/** A part of a GenAI message. */
export type Part =
  { type: 'text'; content: string } | { type: 'reasoning'; content: string } | { type: 'tool_call'; id?: string; name: string; arguments: string };

/** A message of `gen_ai.output.messages`. */
export interface OutputMessage {
  role: string;
  parts: Part[];
  finish_reason?: string;
}

type TextFn = (text: string) => string;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function chatParts(m: Json, fn: TextFn): Part[] {
  const parts: Part[] = [];
  const c = m.content;
  if (typeof c === 'string') {
    if (c) parts.push({ type: 'text', content: fn(c) });
  } else if (Array.isArray(c)) {
    for (const p of c as unknown[]) if (isObj(p) && typeof p.text === 'string') parts.push({ type: 'text', content: fn(p.text) });
  }
  if (typeof m.refusal === 'string' && m.refusal) parts.push({ type: 'text', content: fn(m.refusal) });
  if (typeof m.reasoning_content === 'string' && m.reasoning_content) parts.push({ type: 'reasoning', content: fn(m.reasoning_content) });
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as unknown[]) : isObj(m.function_call) ? [{ function: m.function_call }] : [];
  for (const t of calls) {
    if (!isObj(t)) continue;
    const f = isObj(t.function) ? t.function : {};
    const call: Part = { type: 'tool_call', name: str(f.name) ?? '', arguments: fn(str(f.arguments) ?? '') };
    if (typeof t.id === 'string') call.id = t.id;
    parts.push(call);
  }
  return parts;
}

function anthropicParts(blocks: unknown[], fn: TextFn): Part[] {
  const parts: Part[] = [];
  for (const b of blocks) {
    if (!isObj(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') parts.push({ type: 'text', content: fn(b.text) });
    else if (b.type === 'thinking' && typeof b.thinking === 'string') parts.push({ type: 'reasoning', content: fn(b.thinking) });
    else if (b.type === 'tool_use' || b.type === 'server_tool_use' || b.type === 'mcp_tool_use') {
      const call: Part = { type: 'tool_call', name: str(b.name) ?? '', arguments: fn(JSON.stringify(b.input ?? {})) };
      if (typeof b.id === 'string') call.id = b.id;
      parts.push(call);
    }
  }
  return parts;
}

function responsesParts(output: unknown[], fn: TextFn): Part[] {
  const parts: Part[] = [];
  for (const item of output) {
    if (!isObj(item)) continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const c of item.content as unknown[]) {
        if (!isObj(c)) continue;
        const text = c.type === 'refusal' ? c.refusal : c.text;
        if (typeof text === 'string') parts.push({ type: 'text', content: fn(text) });
      }
    } else if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const args = str(item.arguments) ?? str(item.input) ?? '';
      const call: Part = { type: 'tool_call', name: str(item.name) ?? '', arguments: fn(args) };
      const id = str(item.call_id) ?? str(item.id);
      if (id) call.id = id;
      parts.push(call);
    } else if (item.type === 'reasoning' && Array.isArray(item.summary)) {
      for (const s of item.summary as unknown[]) if (isObj(s) && typeof s.text === 'string') parts.push({ type: 'reasoning', content: fn(s.text) });
    }
  }
  return parts;
}

/**
 * The messages of a JSON answer (OpenAI chat or completions, Anthropic, Responses) in the shape of
 * `gen_ai.output.messages`, each text, refusal, reasoning and tool-call argument through `fn`.
 * Nothing else of the answer is kept. Undefined for a body of no known shape.
 */
export function outputMessages(body: unknown, fn: TextFn): OutputMessage[] | undefined {
  if (!isObj(body)) return undefined;
  const withReason = (m: OutputMessage, r: unknown): OutputMessage => (typeof r === 'string' ? { ...m, finish_reason: r } : m);
  if (Array.isArray(body.choices)) {
    return (body.choices as unknown[]).filter(isObj).map((c) => {
      if (isObj(c.message)) return withReason({ role: str(c.message.role) ?? 'assistant', parts: chatParts(c.message, fn) }, c.finish_reason);
      const text = str(c.text);
      return withReason({ role: 'assistant', parts: text ? [{ type: 'text', content: fn(text) }] : [] }, c.finish_reason);
    });
  }
  if (Array.isArray(body.content)) return [withReason({ role: str(body.role) ?? 'assistant', parts: anthropicParts(body.content, fn) }, body.stop_reason)];
  if (body.object === 'response' && Array.isArray(body.output))
    return [withReason({ role: 'assistant', parts: responsesParts(body.output, fn) }, body.status)];
  return undefined;
}

/**
 * A text function that redacts, then cuts what is recorded to `max` characters in all (the texts of
 * one attribute share the budget); a cut text ends with `…`, and `truncated` says one was cut.
 */
export function bounded(redact: TextFn, max: number): { fn: TextFn; readonly truncated: boolean } {
  let left = max;
  let truncated = false;
  return {
    fn(text) {
      if (left <= 0 && text) {
        truncated = true;
        return '';
      }
      const r = redact(text);
      if (r.length <= left) {
        left -= r.length;
        return r;
      }
      truncated = true;
      const cut = `${r.slice(0, left)}…`;
      left = 0;
      return cut;
    },
    get truncated() {
      return truncated;
    },
  };
}
