import type { Usage } from '@waygate/core';
import { base64Embedding, isObj, num, openAIUsage } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';

/** AI21's finish reasons → OpenAI's: `stop` and `endoftext` → `stop`, `length` → `length`, `tool_calls` kept. */
export function finishReason(reason: unknown): string {
  const r = isObj(reason) ? reason.reason : reason;
  if (r === 'length' || r === 'tool_calls' || r === 'content_filter') return r;
  return 'stop';
}

/** Jamba's `usage` (OpenAI's field names), when the answer has one. */
export const usageOf: (u: unknown) => Usage | undefined = openAIUsage;

/** A Jamba tool call → OpenAI's (arguments as JSON text, whether AI21 sent text or an object). */
export function toolCallOf(c: unknown, i: number): Json {
  const call = isObj(c) ? c : {};
  const fn = isObj(call.function) ? call.function : {};
  const args = fn.arguments;
  return {
    id: typeof call.id === 'string' ? call.id : `call_${i}`,
    type: 'function',
    function: { name: typeof fn.name === 'string' ? fn.name : '', arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
  };
}

/** A Jamba chat answer → an OpenAI chat completion. */
export function fromJambaChat(json: unknown, model: string): Json {
  if (!isObj(json) || !Array.isArray(json.choices) || json.choices.length === 0) throw badAnswer('answered without choices');
  const choices = json.choices.map((c: unknown, i: number) => {
    const choice = isObj(c) ? c : {};
    const msg = isObj(choice.message) ? choice.message : {};
    const calls = Array.isArray(msg.tool_calls) ? msg.tool_calls.map(toolCallOf) : [];
    const message: Json = { role: 'assistant', content: typeof msg.content === 'string' && (msg.content || !calls.length) ? msg.content : null };
    if (calls.length) message.tool_calls = calls;
    return {
      index: typeof choice.index === 'number' ? choice.index : i,
      message,
      logprobs: null,
      finish_reason: calls.length ? 'tool_calls' : finishReason(choice.finish_reason),
    };
  });
  const out: Json = {
    id: typeof json.id === 'string' ? json.id : 'ai21-chat',
    object: 'chat.completion',
    created: num(json.created) ?? Math.floor(Date.now() / 1000),
    model: typeof json.model === 'string' && json.model ? json.model : model,
    choices,
  };
  const usage = usageOf(json.usage);
  if (usage) out.usage = usage;
  return out;
}

/**
 * A Jurassic-2 complete answer (`completions[]` of `{data: {text, tokens}, finishReason}`) → an OpenAI
 * text completion; usage counted from the tokens AI21 lists for the prompt and each completion.
 */
export function fromJ2Complete(json: unknown, model: string): Json {
  if (!isObj(json) || !Array.isArray(json.completions) || json.completions.length === 0) throw badAnswer('answered without completions');
  let completion = 0;
  const choices = json.completions.map((c: unknown, index: number) => {
    const data = isObj(c) && isObj(c.data) ? c.data : undefined;
    if (typeof data?.text !== 'string') throw badAnswer('answered a completion without text');
    if (Array.isArray(data.tokens)) completion += data.tokens.length;
    return { index, text: data.text, logprobs: null, finish_reason: finishReason(isObj(c) ? c.finishReason : undefined) };
  });
  const out: Json = {
    id: typeof json.id === 'string' ? json.id : 'ai21-complete',
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices,
  };
  const promptTokens = isObj(json.prompt) && Array.isArray(json.prompt.tokens) ? json.prompt.tokens.length : undefined;
  if (promptTokens !== undefined) out.usage = { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
  return out;
}

/** AI21's embed answer (`results[]` of `{embedding}`) → OpenAI's list (floats, or base64 when asked). */
export function fromAI21Embed(json: unknown, model: string, count: number, encoding?: unknown): Json {
  const results = isObj(json) && Array.isArray(json.results) ? json.results : [];
  const vectors = results.map((r: unknown) => (isObj(r) ? r.embedding : undefined));
  if (vectors.length !== count || vectors.some((v: unknown) => !Array.isArray(v) || v.some((x) => typeof x !== 'number'))) {
    throw badAnswer(`answered ${vectors.length} embeddings for ${count} texts`);
  }
  return {
    object: 'list',
    data: vectors.map((v: number[], index: number) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? base64Embedding(v) : v })),
    model,
  };
}
