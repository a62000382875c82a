import { ErrorCode, badRequest } from '@waygate/core';
import { badAnswer, parseRerankRequest, rerankTexts, toCohereRerank } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { DEFAULT_BASE_URL, resolveAuth, signedPostTo } from './request.js';

/**
 * Rerank through Bedrock Agent Runtime's `Rerank` (`POST https://bedrock-agent-runtime.{region}.amazonaws.com/rerank`,
 * SigV4 service `bedrock`), for `amazon.rerank-v1:0` and `cohere.rerank-v3-5:0`: the gateway's
 * request (Cohere's shape) as one text query and inline text sources, the model as a foundation-model
 * ARN; the answer's `results` (`index`, `relevanceScore`) as Cohere's.
 */

/** Agent Runtime takes at most this many sources. */
export const MAX_SOURCES = 1000;

/** A model id as the ARN `modelArn` wants (an ARN is kept as it is). */
export function rerankModelArn(model: string, region: string): string {
  return model.startsWith('arn:') ? model : `arn:aws:bedrock:${region}::foundation-model/${model}`;
}

/** The Agent Runtime host of a target: its custom host if it has one (a VPC endpoint), else the region's. */
export function agentRuntimeURL(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== DEFAULT_BASE_URL) return b.replace(/\/+$/, '');
  return `https://bedrock-agent-runtime.${region}.amazonaws.com`;
}

/** The gateway's rerank request → Agent Runtime's Rerank body. */
export function toBedrockRerank(body: Json | undefined, region: string): Json {
  const req = parseRerankRequest(body);
  if (!req.model) throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required (amazon.rerank-v1:0, cohere.rerank-v3-5:0, or a model ARN)', 'model');
  const texts = rerankTexts(req);
  if (texts.length > MAX_SOURCES) {
    throw badRequest(ErrorCode.INVALID_REQUEST, `Bedrock reranks at most ${MAX_SOURCES} documents per request (got ${texts.length})`, 'documents');
  }
  const modelConfiguration: Json = { modelArn: rerankModelArn(req.model, region) };
  const extra = body?.additional_model_request_fields;
  if (extra !== undefined) {
    if (!isObj(extra)) throw badRequest(ErrorCode.INVALID_REQUEST, 'additional_model_request_fields must be an object', 'additional_model_request_fields');
    modelConfiguration.additionalModelRequestFields = extra;
  }
  return {
    queries: [{ type: 'TEXT', textQuery: { text: req.query } }],
    sources: texts.map((text) => ({ type: 'INLINE', inlineDocumentSource: { type: 'TEXT', textDocument: { text } } })),
    rerankingConfiguration: {
      type: 'BEDROCK_RERANKING_MODEL',
      bedrockRerankingConfiguration: { numberOfResults: Math.min(req.top_n ?? texts.length, texts.length), modelConfiguration },
    },
  };
}

/** The upstream request: a signed `POST /rerank` to the target's Agent Runtime host. */
export function buildRerank(input: BuildInput): UpstreamRequest {
  const auth = resolveAuth(input);
  return signedPostTo(input, `${agentRuntimeURL(input, auth.region)}/rerank`, toBedrockRerank(input.body, auth.region), auth);
}

/** Agent Runtime's answer (`{results: [{index, relevanceScore, document}], nextToken?}`) → Cohere's; it reports no usage. */
export function fromBedrockRerank(json: unknown, input: BuildInput): Json {
  const req = parseRerankRequest(input.body);
  if (!isObj(json) || !Array.isArray(json.results)) throw badAnswer('bedrock', 'no results array');
  const ranked = json.results.map((r: unknown) => (isObj(r) ? { index: r.index, score: r.relevanceScore } : { index: undefined, score: undefined }));
  return toCohereRerank('bedrock', req, ranked, { id: input.ctx.id, model: req.model });
}
