import { base64Embedding } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { headersFor, invalid } from './request.js';

const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);

/** An OpenAI embeddings request → Cohere's v2 `/embed` body. */
export function toCohereEmbed(body: Json, inputType?: string): Json {
  const input = body.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((x) => typeof x === 'string') ? input : undefined;
  if (!texts) throw invalid('Cohere embeds text: input must be a string or an array of strings', 'input');
  // Floats are asked for either way: a base64 answer (the `openai` SDK's default) is encoded from them.
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') {
    throw invalid('encoding_format must be "float" or "base64"', 'encoding_format');
  }
  const type = typeof body.input_type === 'string' ? body.input_type : (inputType ?? 'search_document');
  if (!INPUT_TYPES.has(type)) throw invalid(`input_type ${JSON.stringify(type)} is not one of Cohere's`, 'input_type');
  const out: Json = { model: body.model, texts, input_type: type, embedding_types: ['float'] };
  if (typeof body.dimensions === 'number') out.output_dimension = body.dimensions;
  if (typeof body.truncate === 'string') out.truncate = body.truncate;
  return out;
}

/** Cohere's `/embed` answer → OpenAI's embeddings list (vectors base64-encoded when the request asked for `base64`). */
export function fromCohereEmbed(json: unknown, model: string, encodingFormat?: unknown): Json {
  const r = isObj(json) ? json : {};
  const vectors: unknown[] =
    isObj(r.embeddings) && Array.isArray(r.embeddings.float) ? r.embeddings.float : Array.isArray(r.embeddings) ? r.embeddings : [];
  const tokens =
    isObj(r.meta) && isObj(r.meta.billed_units) && typeof r.meta.billed_units.input_tokens === 'number' ? r.meta.billed_units.input_tokens : 0;
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({
      object: 'embedding',
      index,
      embedding: encodingFormat === 'base64' ? base64Embedding(embedding) : embedding,
    })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** The upstream request for embeddings: `POST {base}/embed`, with `input_type` from the body, the config node or a header. */
export function buildEmbeddings(input: BuildInput): UpstreamRequest {
  const opt = input.target.node.cohere_input_type ?? input.ctx.headers['x-waygate-cohere-input-type'];
  const body = toCohereEmbed(input.body ?? {}, typeof opt === 'string' ? opt : undefined);
  return { url: `${input.target.baseURL}/embed`, method: 'POST', headers: headersFor(input), body: JSON.stringify(body) };
}
