import { parseRerankRequest, rerankTexts, toCohereRerank, badAnswer } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { headersFor, invalid } from './request.js';

/**
 * Rerank through Cohere's v2 `/rerank`. The gateway's rerank request is Cohere's own shape (v1 and
 * v2 fields); v2 takes documents as strings only and has no `return_documents`, `rank_fields` or
 * `max_chunks_per_doc`, so objects are sent as their text (see `rerankTexts`) and the documents a
 * caller asked for are put back from the request.
 */

/** Fields of the v1 request that v2 refuses: read by the gateway, not sent. */
const V1_ONLY = new Set(['return_documents', 'rank_fields', 'max_chunks_per_doc']);

/** The gateway's rerank request → Cohere's v2 body: documents as strings; every other v2 field (`top_n`, `max_tokens_per_doc`, `priority`, new ones) as sent. */
export function toCohereRerankBody(body: Json | undefined): Json {
  const req = parseRerankRequest(body);
  if (!req.model) throw invalid('model is required (a Cohere rerank model, e.g. rerank-v3.5)', 'model');
  const out: Json = {};
  for (const k in body) if (!V1_ONLY.has(k)) out[k] = body[k];
  out.documents = rerankTexts(req);
  return out;
}

/** The upstream request: `POST {base}/rerank`. */
export function buildRerank(input: BuildInput): UpstreamRequest {
  return { url: `${input.target.baseURL}/rerank`, method: 'POST', headers: headersFor(input), body: JSON.stringify(toCohereRerankBody(input.body)) };
}

/** Cohere's v2 answer → the gateway's (Cohere's, with each asked-for document from the request); `id` and `meta` kept. */
export function fromCohereRerank(json: unknown, input: BuildInput): Json {
  const req = parseRerankRequest(input.body);
  if (!isObj(json) || !Array.isArray(json.results)) throw badAnswer('cohere', 'no results array');
  const ranked = json.results.map((r: unknown) => (isObj(r) ? { index: r.index, score: r.relevance_score } : { index: undefined, score: undefined }));
  return toCohereRerank('cohere', req, ranked, {
    id: typeof json.id === 'string' ? json.id : input.ctx.id,
    meta: isObj(json.meta) ? json.meta : undefined,
  });
}
