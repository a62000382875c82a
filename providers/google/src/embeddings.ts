import { ErrorCode, badRequest } from '@waygate/core';
import { base64Embedding } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { base, headers, modelPath } from './request.js';

/** OpenAI embeddings request → Gemini batchEmbedContents body. */
export function toGeminiEmbedRequest(body: Json): Json {
  const model = modelPath(body.model);
  const input: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  if (!input.length || !input.every((x) => typeof x === 'string'))
    throw badRequest(ErrorCode.INVALID_REQUEST, 'google embeddings take input as a string or an array of strings', 'input');
  return {
    requests: input.map((text) => {
      const r: Json = { model, content: { parts: [{ text }] } };
      if (typeof body.dimensions === 'number') r.outputDimensionality = body.dimensions;
      if (typeof body.task_type === 'string') r.taskType = body.task_type;
      return r;
    }),
  };
}

/** Gemini batchEmbedContents answer → OpenAI embeddings list (vectors base64-encoded when the request asked for `base64`, as the `openai` SDK does by default). */
export function toOpenAIEmbeddings(res: Json, model: unknown, encodingFormat?: unknown): Json {
  const embs: Json[] = Array.isArray(res.embeddings) ? res.embeddings : [];
  const vector = (values: unknown[]) => (encodingFormat === 'base64' ? base64Embedding(values) : values);
  return {
    object: 'list',
    data: embs.map((e, index) => ({ object: 'embedding', index, embedding: vector(isObj(e) && Array.isArray(e.values) ? e.values : []) })),
    model: String(model ?? ''),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

/** The upstream request for embeddings: `POST {base}/models/{model}:batchEmbedContents`. */
export function buildEmbeddings(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  return {
    url: `${base(input)}/${modelPath(body.model)}:batchEmbedContents`,
    method: 'POST',
    headers: headers(input),
    body: JSON.stringify(toGeminiEmbedRequest(body)),
  };
}
