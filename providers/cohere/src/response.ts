import type { Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/** Cohere finish reasons → OpenAI's. */
export const FINISH_REASONS: Record<string, string> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
  ERROR: 'stop',
  TIMEOUT: 'stop',
};

export function mapFinishReason(reason: unknown): string {
  return (typeof reason === 'string' && FINISH_REASONS[reason]) || 'stop';
}

export function usageOf(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const src = isObj(u.tokens) && typeof u.tokens.input_tokens === 'number' ? u.tokens : isObj(u.billed_units) ? u.billed_units : undefined;
  if (!src) return undefined;
  const prompt = Number(src.input_tokens ?? 0);
  const completion = Number(src.output_tokens ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (typeof u.cached_tokens === 'number') usage.prompt_tokens_details = { cached_tokens: u.cached_tokens };
  return usage;
}

function toolCallsOf(calls: unknown): Json[] | undefined {
  if (!Array.isArray(calls) || calls.length === 0) return undefined;
  return calls.map((c: Json, i: number) => ({
    id: typeof c.id === 'string' && c.id ? c.id : `call_${i}`,
    type: 'function',
    function: {
      name: c.function?.name ?? '',
      arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? {}),
    },
  }));
}

/** Cohere's `/chat` answer → an OpenAI chat completion. */
export function fromCohereChat(json: unknown, model: string): Json {
  const r = isObj(json) ? json : {};
  const msg = isObj(r.message) ? r.message : {};
  const parts = Array.isArray(msg.content) ? msg.content : [];
  const text = parts
    .filter((p: Json) => isObj(p) && p.type === 'text')
    .map((p: Json) => String(p.text ?? ''))
    .join('');
  const toolCalls = toolCallsOf(msg.tool_calls);
  const message: Json = { role: 'assistant', content: text || (toolCalls ? null : text) };
  if (toolCalls) message.tool_calls = toolCalls;
  const out: Json = {
    id: typeof r.id === 'string' ? r.id : `cohere-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: mapFinishReason(r.finish_reason) }],
  };
  const usage = usageOf(r.usage);
  if (usage) out.usage = usage;
  return out;
}
