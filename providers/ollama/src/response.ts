import type { Usage } from '@waygate/core';
import { base64Embedding } from '@waygate/provider-kit';
import { badAnswer, streamError } from './errors.js';
import { isObj, num, str } from './json.js';
import type { Json } from './json.js';

/**
 * Ollama's answers → OpenAI's: `/api/chat`'s `{model, created_at, message, done, done_reason,
 * prompt_eval_count, eval_count, ...}`, `/api/generate`'s `{response, ...}` with the same counters,
 * `/api/embed`'s `{embeddings}` and `/api/tags`' `{models}`.
 */

/** Usage from Ollama's counters: `prompt_eval_count` (input) and `eval_count` (output). */
export function usageOf(j: Json): Usage | undefined {
  const prompt = num(j.prompt_eval_count);
  const completion = num(j.eval_count);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0) };
}

/** `done_reason` → OpenAI's finish reason: `length` stays, a tool call wins, anything else (`stop`, `load`, `unload`) is `stop`. */
export function finishReason(doneReason: unknown, toolCalls: number): string {
  if (toolCalls > 0) return 'tool_calls';
  return doneReason === 'length' ? 'length' : 'stop';
}

/** Seconds since the epoch of Ollama's `created_at`, else now. */
export function createdOf(j: Json): number {
  const t = Date.parse(str(j.created_at) ?? '');
  return Math.floor((Number.isNaN(t) ? Date.now() : t) / 1000);
}

/** Ollama's tool calls (`{function: {name, arguments: {...}}}`, an `id` on newer servers) → OpenAI's, arguments as JSON text. */
export function toolCallsOf(calls: unknown, first = 0): Json[] {
  if (!Array.isArray(calls)) return [];
  return calls
    .filter((c) => isObj(c) && isObj(c.function) && typeof c.function.name === 'string')
    .map((c: Json, i: number) => {
      const args = c.function.arguments;
      return {
        id: str(c.id) ?? `call_${first + i}`,
        type: 'function',
        function: { name: c.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
      };
    });
}

const idOf = (prefix: string, j: Json) => `${prefix}-ollama-${createdOf(j).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

function finished(json: unknown): Json {
  if (!isObj(json)) throw badAnswer('answered something that is not a JSON object', json);
  if (typeof json.error === 'string') throw streamError(json);
  if (json.done !== true) throw badAnswer('answered an unfinished response (done is not true)', json);
  return json;
}

/** `/api/chat`'s answer → an OpenAI chat completion (`thinking` as `reasoning_content`). */
export function fromOllamaChat(json: unknown, model: string): Json {
  const j = finished(json);
  const msg = isObj(j.message) ? j.message : {};
  const calls = toolCallsOf(msg.tool_calls);
  const text = str(msg.content) ?? '';
  const message: Json = { role: 'assistant', content: calls.length && !text ? null : text };
  if (typeof msg.thinking === 'string' && msg.thinking) message.reasoning_content = msg.thinking;
  if (calls.length) message.tool_calls = calls;
  const out: Json = {
    id: idOf('chatcmpl', j),
    object: 'chat.completion',
    created: createdOf(j),
    model: str(j.model) ?? model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(j.done_reason, calls.length) }],
  };
  const usage = usageOf(j);
  if (usage) out.usage = usage;
  return out;
}

/** `/api/generate`'s answer → an OpenAI text completion. */
export function fromOllamaGenerate(json: unknown, model: string): Json {
  const j = finished(json);
  const out: Json = {
    id: idOf('cmpl', j),
    object: 'text_completion',
    created: createdOf(j),
    model: str(j.model) ?? model,
    choices: [{ index: 0, text: str(j.response) ?? '', logprobs: null, finish_reason: finishReason(j.done_reason, 0) }],
  };
  const usage = usageOf(j);
  if (usage) out.usage = usage;
  return out;
}

/** `/api/embed`'s answer → OpenAI's embeddings list; base64 float32 when the request asked for it. */
export function fromOllamaEmbed(json: unknown, model: string, encodingFormat?: unknown): Json {
  if (!isObj(json) || !Array.isArray(json.embeddings) || !json.embeddings.every((v) => Array.isArray(v))) {
    throw badAnswer('answered embeddings without an embeddings array', json);
  }
  const tokens = num(json.prompt_eval_count) ?? 0;
  return {
    object: 'list',
    data: (json.embeddings as number[][]).map((embedding, index) => ({
      object: 'embedding',
      index,
      embedding: encodingFormat === 'base64' ? base64Embedding(embedding) : embedding,
    })),
    model: str(json.model) ?? model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** `/api/tags` (the models pulled on the server) → OpenAI's model list. */
export function fromOllamaTags(json: unknown): Json {
  if (!isObj(json) || !Array.isArray(json.models)) throw badAnswer('answered /api/tags without a models array', json);
  return {
    object: 'list',
    data: json.models
      .filter((m) => isObj(m) && (typeof m.model === 'string' || typeof m.name === 'string'))
      .map((m: Json) => {
        const t = Date.parse(str(m.modified_at) ?? '');
        return { id: str(m.model) ?? m.name, object: 'model', created: Number.isNaN(t) ? 0 : Math.floor(t / 1000), owned_by: 'ollama' };
      }),
  };
}
