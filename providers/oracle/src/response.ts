import { ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput, Usage } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/**
 * OCI's ChatResult (`{modelId, modelVersion, chatResponse}`) → OpenAI's chat.completion. A GENERIC
 * chatResponse has `choices[]` with a `message` (content parts, `toolCalls`) and a `finishReason`; a
 * COHERE one has `text`, `toolCalls` (name and parameters, no id) and Cohere's finish reasons.
 */

/** A finish reason of either format → OpenAI's. */
export function finishReason(reason: unknown, hasToolCalls = false): string {
  const r = typeof reason === 'string' ? reason.toLowerCase() : '';
  switch (r) {
    case 'length':
    case 'max_tokens':
    case 'error_limit':
      return 'length';
    case 'tool_calls':
    case 'tool_use':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
    case 'error_toxic':
      return 'content_filter';
    default:
      return hasToolCalls ? 'tool_calls' : 'stop'; // stop, complete, end_turn, stop_sequence, and reasons added later
  }
}

/** OCI usage → OpenAI usage (cached prompt tokens and reasoning tokens kept). */
export function toOpenAIUsage(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const prompt = Number(u.promptTokens ?? 0);
  const completion = Number(u.completionTokens ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: Number(u.totalTokens ?? prompt + completion) };
  if (isObj(u.promptTokensDetails) && typeof u.promptTokensDetails.cachedTokens === 'number')
    usage.prompt_tokens_details = { cached_tokens: u.promptTokensDetails.cachedTokens };
  if (isObj(u.completionTokensDetails) && typeof u.completionTokensDetails.reasoningTokens === 'number')
    usage.completion_tokens_details = { reasoning_tokens: u.completionTokensDetails.reasoningTokens };
  return usage;
}

/** The text of a GENERIC message's content parts (TEXT parts joined). */
export function textOfParts(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text: string | undefined;
  for (const p of content) if (isObj(p) && (p.type === 'TEXT' || p.type === undefined) && typeof p.text === 'string') text = (text ?? '') + p.text;
  return text;
}

/** GENERIC tool calls (`{id, type: FUNCTION, name, arguments}`) → OpenAI's. */
export function genericCalls(calls: unknown): Json[] {
  const out: Json[] = [];
  for (const c of Array.isArray(calls) ? calls : []) {
    if (!isObj(c)) continue;
    const args = c.arguments;
    out.push({
      id: typeof c.id === 'string' && c.id ? c.id : `call_${out.length}`,
      type: 'function',
      function: { name: String(c.name ?? ''), arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    });
  }
  return out;
}

/** COHERE tool calls (`{name, parameters}`) → OpenAI's, with ids `call_<n>` (Cohere's calls have none). */
export function cohereCalls(calls: unknown, first = 0): Json[] {
  const out: Json[] = [];
  for (const c of Array.isArray(calls) ? calls : []) {
    if (!isObj(c)) continue;
    out.push({
      id: `call_${first + out.length}`,
      type: 'function',
      function: { name: String(c.name ?? ''), arguments: JSON.stringify(c.parameters ?? {}) },
    });
  }
  return out;
}

function badAnswer(what: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `oracle answered without ${what}`, { type: 'server_error' });
}

export function toOpenAIResponse(json: Json, input: BuildInput): Json {
  const r = json.chatResponse;
  if (!isObj(r)) throw badAnswer('a chatResponse');
  const choices: Json[] = [];
  if (r.apiFormat === 'COHERE' || (typeof r.text === 'string' && !Array.isArray(r.choices))) {
    const calls = cohereCalls(r.toolCalls);
    const message: Json = { role: 'assistant', content: typeof r.text === 'string' && (r.text || !calls.length) ? r.text : null, refusal: null };
    if (calls.length) message.tool_calls = calls;
    choices.push({ index: 0, message, logprobs: null, finish_reason: finishReason(r.finishReason, calls.length > 0) });
  } else {
    if (!Array.isArray(r.choices)) throw badAnswer('choices');
    r.choices.forEach((c: unknown, i: number) => {
      if (!isObj(c)) return;
      const m = isObj(c.message) ? c.message : {};
      const calls = genericCalls(m.toolCalls);
      const message: Json = { role: 'assistant', content: textOfParts(m.content) ?? null, refusal: typeof m.refusal === 'string' ? m.refusal : null };
      if (calls.length) message.tool_calls = calls;
      if (typeof m.reasoningContent === 'string' && m.reasoningContent) message.reasoning_content = m.reasoningContent;
      choices.push({
        index: typeof c.index === 'number' ? c.index : i,
        message,
        logprobs: null,
        finish_reason: finishReason(c.finishReason, calls.length > 0),
      });
    });
  }
  const created = typeof r.timeCreated === 'string' ? Math.floor(Date.parse(r.timeCreated) / 1000) : NaN;
  const out: Json = {
    id: `chatcmpl-${input.ctx.id}`,
    object: 'chat.completion',
    created: Number.isFinite(created) ? created : Math.floor((input.ctx.startedAt ?? Date.now()) / 1000),
    model: String(input.body?.model || json.modelId || ''),
    choices,
  };
  const usage = toOpenAIUsage(r.usage);
  if (usage) out.usage = usage;
  return out;
}
