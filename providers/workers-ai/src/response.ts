import { base64Embedding, openAIUsage } from '@waygate/provider-kit';
import type { Usage } from '@waygate/core';
import { badAnswer, failedEnvelope } from './errors.js';
import { isObj, str } from './json.js';
import type { Json } from './json.js';

/**
 * Workers AI's answers → OpenAI's. The REST API wraps every model's output in Cloudflare's envelope,
 * `{result, success, errors, messages}`; text generation's `result` is `{response, tool_calls?, usage?}`,
 * embeddings' `{shape, data, pooling?}`.
 */

/** The `result` of a Cloudflare envelope; `success: false` or no result is a 502. */
export function resultOf(json: unknown): Json {
  if (!isObj(json)) throw badAnswer('answered without a JSON envelope', json);
  if (json.success === false) throw failedEnvelope(json);
  if (!isObj(json.result)) throw badAnswer('answered an envelope without a result', json);
  return json.result;
}

/** Usage as Workers AI reports it (`prompt_tokens`, `completion_tokens`, `total_tokens`), when it does. */
export const usageOf: (u: unknown) => Usage | undefined = openAIUsage;

/** The generated text: a string, or (JSON mode on some models) an object, as JSON text. */
export function responseText(r: unknown): string {
  if (r === null || r === undefined) return '';
  return typeof r === 'string' ? r : JSON.stringify(r);
}

/**
 * One tool call of Workers AI's → OpenAI's: the flat `{name, arguments}` (arguments an object) most
 * models answer, or OpenAI's own `{id, type, function: {name, arguments}}` some newer models answer.
 */
export function toolCallOf(call: unknown, index: number): Json | undefined {
  if (!isObj(call)) return undefined;
  const fn = isObj(call.function) ? call.function : call;
  const name = str(fn.name);
  if (!name) return undefined;
  const args = fn.arguments;
  return {
    id: str(call.id) ?? `call_${index}`,
    type: 'function',
    function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
  };
}

/** The finish reason: tool calls, else `length` when the answer used all the tokens asked for, else `stop`. */
export function finishReason(calls: number, usage: Usage | undefined, maxTokens: number | undefined): string {
  if (calls > 0) return 'tool_calls';
  if (maxTokens !== undefined && usage?.completion_tokens !== undefined && usage.completion_tokens >= maxTokens) return 'length';
  return 'stop';
}

const now = () => Math.floor(Date.now() / 1000);
const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** A text generation envelope → an OpenAI chat completion. */
export function fromWorkersChat(json: unknown, model: string, maxTokens?: number): Json {
  const r = resultOf(json);
  const calls = (Array.isArray(r.tool_calls) ? r.tool_calls : []).map(toolCallOf).filter((c): c is Json => c !== undefined);
  const usage = usageOf(r.usage);
  const text = responseText(r.response);
  const message: Json = { role: 'assistant', content: calls.length && !text ? null : text };
  if (calls.length) message.tool_calls = calls;
  const out: Json = {
    id: newId('chatcmpl-workers-ai'),
    object: 'chat.completion',
    created: now(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(calls.length, usage, maxTokens) }],
  };
  if (usage) out.usage = usage;
  return out;
}

/** A text generation envelope → an OpenAI (legacy) text completion. */
export function fromWorkersCompletion(json: unknown, model: string, maxTokens?: number): Json {
  const r = resultOf(json);
  const usage = usageOf(r.usage);
  const out: Json = {
    id: newId('cmpl-workers-ai'),
    object: 'text_completion',
    created: now(),
    model,
    choices: [{ index: 0, text: responseText(r.response), logprobs: null, finish_reason: finishReason(0, usage, maxTokens) }],
  };
  if (usage) out.usage = usage;
  return out;
}

/** An embeddings envelope (`result.data`, one vector per text) → OpenAI's list; base64 when the request asked for it. */
export function fromWorkersEmbed(json: unknown, model: string, encodingFormat?: unknown): Json {
  const r = resultOf(json);
  if (!Array.isArray(r.data) || !r.data.every((v) => Array.isArray(v))) throw badAnswer('answered embeddings without result.data vectors', json);
  const usage = usageOf(r.usage);
  return {
    object: 'list',
    data: (r.data as number[][]).map((embedding, index) => ({
      object: 'embedding',
      index,
      embedding: encodingFormat === 'base64' ? base64Embedding(embedding) : embedding,
    })),
    model,
    // Workers AI's embedding models report no token counts.
    usage: { prompt_tokens: usage?.prompt_tokens ?? 0, total_tokens: usage?.total_tokens ?? usage?.prompt_tokens ?? 0 },
  };
}
