import type { EndpointAdapter } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

type MapResponse = NonNullable<EndpointAdapter['mapResponse']>;

/**
 * Voyage's embeddings answer is OpenAI's but for its usage, `{total_tokens}` alone: `prompt_tokens`
 * is added (the same count), so the gateway counts, prices and limits those tokens. Any other answer
 * is left as the inner mapping made it.
 */
export function withPromptTokens(inner: MapResponse | undefined): MapResponse {
  return (json, input) => {
    const out = inner ? inner(json, input) : json;
    if (!isObj(out) || !isObj(out.usage) || out.usage.prompt_tokens !== undefined || typeof out.usage.total_tokens !== 'number') return out;
    return { ...out, usage: { ...out.usage, prompt_tokens: out.usage.total_tokens } };
  };
}
