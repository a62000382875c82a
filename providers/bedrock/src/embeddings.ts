import { ErrorCode, badRequest } from '@waygate/core';
import { base64Embedding } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { modelOf, signedPost } from './request.js';

/**
 * Embeddings through InvokeModel: Titan text (`amazon.titan-embed-text-*`, one input per request) and
 * Cohere on Bedrock (`cohere.embed-*`, up to 96 inputs, `input_type` default `search_document`).
 */

/** The upstream request for embeddings: `POST /model/{modelId}/invoke` with Titan's or Cohere's body. */
export function buildEmbeddings(input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const model = modelOf(input);
  const inputs = body.input;
  const path = `/model/${encodeURIComponent(model)}/invoke`;
  if (/^([a-z]{2,4}\.)?cohere\.embed/.test(model)) {
    const texts =
      typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) && inputs.every((x) => typeof x === 'string') ? (inputs as string[]) : undefined;
    if (!texts || !texts.length) throw badRequest(ErrorCode.INVALID_REQUEST, 'Cohere embeddings on Bedrock take a string or an array of strings', 'input');
    const payload: Json = { texts, input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document' };
    if (typeof body.truncate === 'string') payload.truncate = body.truncate;
    return signedPost(input, path, payload);
  }
  let text: string;
  if (typeof inputs === 'string') text = inputs;
  else if (Array.isArray(inputs) && inputs.length === 1 && typeof inputs[0] === 'string') text = inputs[0];
  else throw badRequest(ErrorCode.INVALID_REQUEST, 'Bedrock Titan embeddings take one string input per request', 'input');
  const payload: Json = { inputText: text };
  if (typeof body.dimensions === 'number') payload.dimensions = body.dimensions;
  if (model.startsWith('amazon.titan-embed-text-v2')) payload.normalize = true;
  return signedPost(input, path, payload);
}

/** Titan's (`{embedding, inputTextTokenCount}`) or Cohere's (`{embeddings}`, `{embeddings:{float}}`) answer → OpenAI's embeddings list. */
export function mapEmbeddings(json: unknown, input: BuildInput): unknown {
  if (!isObj(json)) return json;
  const model = String(input.body?.model ?? '');
  let vectors: unknown[] | undefined;
  let tokens = 0;
  if (Array.isArray(json.embedding)) {
    vectors = [json.embedding];
    tokens = Number(json.inputTextTokenCount ?? 0);
  } else if (Array.isArray(json.embeddings)) vectors = json.embeddings;
  else if (isObj(json.embeddings) && Array.isArray(json.embeddings.float)) vectors = json.embeddings.float;
  if (!vectors) return json;
  const base64 = input.body?.encoding_format === 'base64'; // the `openai` SDK's default
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: base64 ? base64Embedding(embedding) : embedding })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
