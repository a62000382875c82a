import { ErrorCode, badRequest } from '@waygate/core';
import { base64Embedding } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import type { TokenCache } from './auth.js';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { googlePredict } from './request.js';

/** OpenAI embeddings request → Vertex text-embedding `predict` body. */
export function toVertexEmbedRequest(body: Json): Json {
  const input: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  if (!input.length || !input.every((x) => typeof x === 'string')) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'vertex-ai embeddings take input as a string or an array of strings', 'input');
  }
  const out: Json = {
    instances: input.map((content) => {
      const inst: Json = { content };
      if (typeof body.task_type === 'string' && body.task_type) inst.task_type = body.task_type;
      if (typeof body.title === 'string' && body.title) inst.title = body.title;
      return inst;
    }),
  };
  if (typeof body.dimensions === 'number') out.parameters = { outputDimensionality: body.dimensions };
  return out;
}

/**
 * Vertex `predict` answer (`predictions[].embeddings.{values, statistics.token_count}`) → OpenAI
 * embeddings list; vectors base64-encoded when the request asked for `base64` (the `openai` SDK's default).
 */
export function toOpenAIEmbeddings(res: Json, model: unknown, encodingFormat?: unknown): Json {
  const predictions: unknown[] = Array.isArray(res.predictions) ? res.predictions : [];
  let tokens = 0;
  const data = predictions.map((p, index) => {
    const e = isObj(p) && isObj(p.embeddings) ? p.embeddings : {};
    const count = isObj(e.statistics) ? Number(e.statistics.token_count) : 0;
    if (Number.isFinite(count)) tokens += count;
    const values: unknown[] = Array.isArray(e.values) ? e.values : [];
    return { object: 'embedding', index, embedding: encodingFormat === 'base64' ? base64Embedding(values) : values };
  });
  return { object: 'list', data, model: String(model ?? ''), usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** The upstream request for embeddings (Google's text-embedding models only): `predict`. */
export function buildEmbeddings(tokenCache: TokenCache, input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  return googlePredict(tokenCache, input, body.model, "embeddings are served by Google's text-embedding models only", () => toVertexEmbedRequest(body));
}
