import type { Usage } from '@waygate/core';
import { badAnswer, predictionFailed } from './errors.js';
import { isObj, num, str } from './json.js';
import type { Json } from './json.js';

/**
 * A prediction's `output` as one text: language models answer an array of strings (the tokens, as
 * they were streamed) or a string; anything else (an object, a file URL list) is JSON text.
 */
export function outputText(output: unknown): string {
  if (output === null || output === undefined) return '';
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('');
  return JSON.stringify(output);
}

/** Usage from a prediction's `metrics` (`input_token_count`, `output_token_count`), when it reports them. */
export function usageOf(metrics: unknown): Usage | undefined {
  if (!isObj(metrics)) return undefined;
  const prompt = num(metrics.input_token_count);
  const completion = num(metrics.output_token_count);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0) };
}

/** Seconds since the epoch of a prediction's `created_at`, else now. */
function createdOf(p: Json): number {
  const t = Date.parse(str(p.created_at) ?? '');
  return Math.floor((Number.isNaN(t) ? Date.now() : t) / 1000);
}

/**
 * A finished prediction → an OpenAI chat completion: the output joined into one assistant message,
 * usage from its metrics, `finish_reason` `length` when the output used all of `maxTokens`, else `stop`.
 * A prediction that failed or was canceled is a 502; one still running is a malformed answer.
 */
export function fromPrediction(json: unknown, model: string, maxTokens?: number): Json {
  if (!isObj(json)) throw badAnswer('answered without a prediction');
  if (json.status === 'failed' || json.status === 'canceled') throw predictionFailed(json, 200);
  if (json.status !== 'succeeded') throw badAnswer(`answered a prediction that has not finished (${JSON.stringify(json.status)})`);
  const usage = usageOf(json.metrics);
  const full = maxTokens !== undefined && usage !== undefined && usage.completion_tokens! >= maxTokens;
  const out: Json = {
    id: str(json.id) ?? `replicate-${Date.now()}`,
    object: 'chat.completion',
    created: createdOf(json),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: outputText(json.output) }, logprobs: null, finish_reason: full ? 'length' : 'stop' }],
  };
  if (usage) out.usage = usage;
  return out;
}
