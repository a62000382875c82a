import type { EndpointDefinition, GatewayError, Usage } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';

/**
 * `POST /v1/rerank` (and `/v2/rerank`, the path of Cohere's v2 SDK) in Cohere's shape, the one
 * Portkey's and LiteLLM's rerank endpoints expose and Jina, Together and vLLM accept: request
 * `{model, query, documents, top_n, return_documents, rank_fields, max_tokens_per_doc}`, answer
 * `{id, results: [{index, relevance_score, document?}], meta}` whatever the provider, errors as
 * Cohere's `{message}`. Each provider adapter translates to and from its own API.
 */
export const RERANK_ENDPOINT: EndpointDefinition = Object.freeze({
  id: 'rerank',
  routes: [
    { method: 'POST', path: '/v1/rerank' },
    { method: 'POST', path: '/v2/rerank' },
  ],
  usage: rerankUsage,
  errorBody: (err: GatewayError) => ({ message: err.message }),
}) as EndpointDefinition;

/**
 * The usage of a rerank answer, for the log line, cost and rate limits: `meta.billed_units.input_tokens`
 * (or `meta.tokens.input_tokens`) as `prompt_tokens`, and Cohere's `search_units` kept as they are
 * (Cohere bills rerank by search units, not tokens); the model the answer names, if any.
 */
export function rerankUsage(json: unknown): { usage?: Usage; model?: string } | undefined {
  if (!isObj(json)) return undefined;
  const model = typeof json.model === 'string' ? json.model : undefined;
  const meta = isObj(json.meta) ? json.meta : undefined;
  const billed = isObj(meta?.billed_units) ? meta.billed_units : {};
  const tokens = isObj(meta?.tokens) ? meta.tokens : {};
  const input = typeof billed.input_tokens === 'number' ? billed.input_tokens : typeof tokens.input_tokens === 'number' ? tokens.input_tokens : undefined;
  const usage: Usage = {};
  if (input !== undefined) Object.assign(usage, { prompt_tokens: input, completion_tokens: 0, total_tokens: input });
  if (typeof billed.search_units === 'number') usage.search_units = billed.search_units;
  const found = Object.keys(usage).length > 0;
  return found || model ? { usage: found ? usage : undefined, model } : undefined;
}
