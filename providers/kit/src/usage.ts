import type { Usage } from '@waygate/core';
import { isObj, num } from './json.js';

/**
 * Usage in OpenAI's field names (`prompt_tokens`, `completion_tokens`, `total_tokens`), as providers
 * with OpenAI-shaped answers report it, when there is one: a missing count is 0, a missing total the
 * sum. Undefined when neither count is a number.
 */
export function openAIUsage(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const prompt = num(u.prompt_tokens);
  const completion = num(u.completion_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: num(u.total_tokens) ?? (prompt ?? 0) + (completion ?? 0) };
}
