import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';

/**
 * Rerank in Cohere's shape, the gateway's canonical one for `/v1/rerank` (it is what Portkey's and
 * LiteLLM's rerank endpoints speak, and Jina, Together and vLLM accept it as it is): the request
 * checked once, the documents' texts for providers that take strings, and any provider's ranking
 * as Cohere's answer.
 */

/** The most documents one request may carry (Cohere, Voyage and Bedrock take at most 1,000; a larger list is bounded here). */
export const MAX_RERANK_DOCUMENTS = 10_000;

/** A rerank request in Cohere's shape (v1 and v2 fields), checked. */
export interface RerankRequest {
  model?: string;
  query: string;
  /** The documents as sent: strings, or objects (Cohere v1: a `text` field, or the fields `rank_fields` names). */
  documents: ReadonlyArray<string | Json>;
  top_n?: number;
  /** Whether each result carries its document (default false, as Cohere's). */
  return_documents: boolean;
  rank_fields?: string[];
  max_tokens_per_doc?: number;
}

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** Checks a rerank body; a bad field is a 400 naming it. */
export function parseRerankRequest(body: Json | undefined): RerankRequest {
  if (!body) throw badRequest(ErrorCode.INVALID_REQUEST, 'a JSON body with query and documents is required');
  const { model, query, documents, top_n, return_documents, rank_fields, max_tokens_per_doc } = body;
  if (model !== undefined && (typeof model !== 'string' || !model))
    throw badRequest(ErrorCode.INVALID_REQUEST, 'model must be a non-empty string', 'model');
  if (typeof query !== 'string' || !query) throw badRequest(ErrorCode.INVALID_REQUEST, 'query is required: a non-empty string', 'query');
  if (!Array.isArray(documents) || documents.length === 0) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'documents is required: a non-empty array of strings or objects', 'documents');
  }
  if (documents.length > MAX_RERANK_DOCUMENTS) {
    throw badRequest(ErrorCode.INVALID_REQUEST, `documents holds ${documents.length} items; at most ${MAX_RERANK_DOCUMENTS} are accepted`, 'documents');
  }
  for (let i = 0; i < documents.length; i++) {
    const d: unknown = documents[i];
    if (typeof d !== 'string' && !isObj(d))
      throw badRequest(ErrorCode.INVALID_REQUEST, `documents[${i}] must be a string or an object`, `documents[${i}]`);
  }
  if (top_n !== undefined && !positiveInt(top_n)) throw badRequest(ErrorCode.INVALID_REQUEST, 'top_n must be a positive integer', 'top_n');
  if (return_documents !== undefined && typeof return_documents !== 'boolean') {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'return_documents must be a boolean', 'return_documents');
  }
  if (rank_fields !== undefined && (!Array.isArray(rank_fields) || !rank_fields.every((f) => typeof f === 'string' && f))) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'rank_fields must be an array of field names', 'rank_fields');
  }
  if (max_tokens_per_doc !== undefined && !positiveInt(max_tokens_per_doc)) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'max_tokens_per_doc must be a positive integer', 'max_tokens_per_doc');
  }
  return { model, query, documents, top_n, return_documents: return_documents === true, rank_fields, max_tokens_per_doc };
}

/**
 * Each document as the text a provider that takes strings ranks: a string as it is; an object by
 * the fields `rank_fields` names, one `field: value` line each, in that order (Cohere's advice for
 * structured data), else its `text` field. An object with neither is a 400 naming it.
 */
export function rerankTexts(req: RerankRequest): string[] {
  return req.documents.map((d, i) => {
    if (typeof d === 'string') return d;
    if (req.rank_fields) {
      const lines: string[] = [];
      for (const f of req.rank_fields) {
        const v: unknown = d[f];
        if (v !== undefined && v !== null) lines.push(`${f}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      }
      if (lines.length) return lines.join('\n');
    }
    if (typeof d.text === 'string') return d.text;
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      `documents[${i}] is an object without a text field${req.rank_fields ? ' or any of the rank_fields' : ''}: give it one, or name its fields in rank_fields`,
      `documents[${i}]`,
    );
  });
}

/** One ranked document as a provider answered it. */
export interface Ranked {
  index: unknown;
  score: unknown;
}

/** What goes around the results in the answer. */
export interface RerankAnswerParts {
  id: string;
  /** The model the provider names (Cohere's own answer names none). */
  model?: string;
  /** Cohere's `meta`: `billed_units` (`search_units`, or `input_tokens` for providers that bill tokens). */
  meta?: Json;
}

/**
 * A provider's ranking as Cohere's answer, `{id, results: [{index, relevance_score, document?}], meta}`,
 * in the provider's order. Each document comes from the request (`{text}` for a string, the object
 * as sent), so the answer is the same whatever the provider returns of it. An index that is not one
 * of the request's documents, or a score that is not a number, is a 502.
 */
export function toCohereRerank(provider: string, req: RerankRequest, ranked: readonly Ranked[], parts: RerankAnswerParts): Json {
  const n = req.documents.length;
  const results = ranked.map((r, i) => {
    const { index, score } = r;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) {
      throw badAnswer(provider, `result ${i} names document ${JSON.stringify(index)}, not one of the ${n} sent`);
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) throw badAnswer(provider, `result ${i} has no numeric relevance score`);
    const out: Json = { index, relevance_score: score };
    if (req.return_documents) {
      const d = req.documents[index]!;
      out.document = typeof d === 'string' ? { text: d } : d;
    }
    return out;
  });
  const answer: Json = { id: parts.id, results };
  if (parts.model) answer.model = parts.model;
  if (parts.meta) answer.meta = parts.meta;
  return answer;
}

/** A provider answer that is not a ranking: a retryable 502 naming the provider. */
export function badAnswer(provider: string, what: string): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, `${provider} answered rerank with a body that is not a ranking: ${what}`, {
    retryable: true,
  });
}
