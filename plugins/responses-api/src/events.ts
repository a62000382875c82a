import type { SSEEvent } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';

/**
 * The Responses stream's events as OpenAI's API reference defines them: one event, the content parts
 * of output items, and the whole event sequence of a finished `Response` (for a cached answer
 * replayed as a stream), built from the same pieces the bridge's stream writer uses.
 */

/** One Responses stream event: `event: <type>` and the JSON data, whose `type` repeats the name. */
export function event(type: string, data: Json, seq: number): SSEEvent {
  return { event: type, data: JSON.stringify({ type, ...data, sequence_number: seq }) };
}

/** The kinds of content part an output item holds, with the events that stream each. */
export type PartKind = 'output_text' | 'refusal' | 'reasoning_text';

/** A content part of `kind` holding `text` (output_text carries annotations and logprobs, both required). */
export function part(kind: PartKind, text: string): Json {
  if (kind === 'output_text') return { type: 'output_text', text, annotations: [], logprobs: [] };
  if (kind === 'refusal') return { type: 'refusal', refusal: text };
  return { type: 'reasoning_text', text };
}

/** The delta event of a part kind, with the fields it needs besides item, indexes and delta. */
export function deltaEvent(kind: PartKind): { type: string; extra: Json } {
  if (kind === 'output_text') return { type: 'response.output_text.delta', extra: { logprobs: [] } };
  if (kind === 'refusal') return { type: 'response.refusal.delta', extra: {} };
  return { type: 'response.reasoning_text.delta', extra: {} };
}

/** The done event of a part kind and its fields (the whole text under the name the spec gives it). */
export function doneEvent(kind: PartKind, text: string): { type: string; data: Json } {
  if (kind === 'output_text') return { type: 'response.output_text.done', data: { text, logprobs: [] } };
  if (kind === 'refusal') return { type: 'response.refusal.done', data: { refusal: text } };
  return { type: 'response.reasoning_text.done', data: { text } };
}

const kindOf = (p: Json): PartKind | undefined => (p.type === 'output_text' || p.type === 'refusal' || p.type === 'reasoning_text' ? p.type : undefined);
const textOfPart = (p: Json): string => String((p.type === 'refusal' ? p.refusal : p.text) ?? '');

/** An item as output_item.added shows it: in progress, nothing generated yet. */
function pending(item: Json): Json {
  if (item.type === 'message') return { ...item, status: 'in_progress', content: [] };
  if (item.type === 'function_call') return { ...item, status: 'in_progress', arguments: '' };
  if (item.type === 'reasoning') return { ...item, status: 'in_progress', content: [] };
  return { ...item, status: 'in_progress' };
}

/**
 * The events a streaming client would have received for a finished `Response`: created, in_progress,
 * then per output item added, its parts (added, one delta with the whole text, done), the function
 * call's arguments, item done, and the terminal event of its status.
 */
export function responseEvents(r: Json): SSEEvent[] {
  const evs: SSEEvent[] = [];
  let seq = 0;
  const emit = (type: string, data: Json) => evs.push(event(type, data, seq++));
  const output: unknown[] = Array.isArray(r.output) ? r.output : [];
  const start: Json = { ...r, status: 'in_progress', completed_at: null, error: null, incomplete_details: null, output: [] };
  delete start.usage;
  emit('response.created', { response: start });
  emit('response.in_progress', { response: start });
  output.forEach((item, i) => {
    if (!isObj(item)) return;
    emit('response.output_item.added', { output_index: i, item: pending(item) });
    const id = item.id;
    if ((item.type === 'message' || item.type === 'reasoning') && Array.isArray(item.content)) {
      item.content.forEach((p: unknown, j: number) => {
        const kind = isObj(p) ? kindOf(p) : undefined;
        if (!isObj(p) || !kind) return;
        const at = { item_id: id, output_index: i, content_index: j };
        const text = textOfPart(p);
        emit('response.content_part.added', { ...at, part: part(kind, '') });
        const d = deltaEvent(kind);
        if (text) emit(d.type, { ...at, delta: text, ...d.extra });
        const done = doneEvent(kind, text);
        emit(done.type, { ...at, ...done.data });
        emit('response.content_part.done', { ...at, part: p });
      });
    } else if (item.type === 'function_call') {
      const args = String(item.arguments ?? '');
      if (args) emit('response.function_call_arguments.delta', { item_id: id, output_index: i, delta: args });
      emit('response.function_call_arguments.done', { item_id: id, output_index: i, name: item.name, arguments: args });
    }
    emit('response.output_item.done', { output_index: i, item });
  });
  const end = r.status === 'incomplete' ? 'response.incomplete' : r.status === 'failed' ? 'response.failed' : 'response.completed';
  emit(end, { response: r });
  return evs;
}
