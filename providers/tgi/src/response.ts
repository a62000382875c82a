import { randomUUID } from 'node:crypto';
import type { Usage } from '@waygate/core';
import { isObj, num, str } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { badAnswer } from './errors.js';
import type { TgiKind } from './request.js';

/** TGI's finish reasons (`length`, `eos_token`, `stop_sequence`) as OpenAI's. */
export function finishReason(reason: unknown): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

/**
 * Usage from TGI's `details`: `generated_tokens` are the completion's; the prompt's are
 * `prompt_tokens` (LoRAX and Predibase), `input_length` (TGI's stream details) or the `prefill` list
 * (when the server returns it), else `headerPrompt`: TGI's `/generate` says the prompt's count only in
 * its `x-prompt-tokens` header. Without any of them `prompt_tokens` is 0.
 */
export function usageOf(details: unknown, headerPrompt?: number): Usage | undefined {
  if (!isObj(details)) return undefined;
  const completion = num(details.generated_tokens);
  if (completion === undefined) return undefined;
  const prefill = Array.isArray(details.prefill) && details.prefill.length ? details.prefill.length : undefined;
  const prompt = num(details.prompt_tokens) ?? num(details.input_length) ?? prefill ?? headerPrompt ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** An id for an answer TGI gives none to, in OpenAI's style. */
export const answerId = (kind: TgiKind): string => `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replace(/-/g, '')}`;

/**
 * TGI's `/generate` answer (`{generated_text, details}`; the compat route's one-item array too) as
 * an OpenAI chat completion or text completion: the text, the finish reason, usage from the details.
 */
export function fromGenerate(json: unknown, kind: TgiKind, model: string, provider = 'tgi', headerPrompt?: number): Json {
  const answer = Array.isArray(json) && json.length === 1 ? (json[0] as unknown) : json;
  if (!isObj(answer) || typeof answer.generated_text !== 'string') throw badAnswer(provider, 'answered without a generated_text');
  const details = isObj(answer.details) ? answer.details : undefined;
  const finish = finishReason(details?.finish_reason);
  const text = answer.generated_text;
  const choice =
    kind === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
  const out: Json = {
    id: answerId(kind),
    object: kind === 'chat' ? 'chat.completion' : 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [choice],
  };
  const usage = usageOf(details, headerPrompt);
  if (usage) out.usage = usage;
  return out;
}

/** The model to name in an answer: the request's, else the provider's name (TGI serves one model and ignores it). */
export const modelOf = (body: Json | undefined, provider: string): string => str(body?.model) || provider;

/** The prompt's token count TGI's `/generate` answers in its `x-prompt-tokens` header, if it is a count. */
export function promptTokensHeader(headers: Record<string, string | string[] | undefined> | undefined): number | undefined {
  const v = headers?.['x-prompt-tokens'];
  const n = typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
  return n;
}
