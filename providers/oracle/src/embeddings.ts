import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import { base64Embedding } from '@waygate/provider-kit';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import type { Json } from './json.js';
import { resolveTarget, signedAction } from './request.js';

/**
 * Embeddings through `POST /{version}/actions/embedText`: `EmbedTextDetails` (`inputs`, `servingMode`,
 * `compartmentId`, `inputType`, `truncate`, `outputDimensions`) → `EmbedTextResult` (`embeddings`,
 * one float vector per input, and `usage`).
 */

const INPUT_TYPES: Record<string, string> = {
  search_document: 'SEARCH_DOCUMENT',
  search_query: 'SEARCH_QUERY',
  classification: 'CLASSIFICATION',
  clustering: 'CLUSTERING',
  image: 'IMAGE',
};
const TRUNCATE: Record<string, string> = { none: 'NONE', start: 'START', end: 'END' };

/** An OpenAI embeddings body as EmbedTextDetails (without compartment and serving mode). */
export function toEmbedText(body: Json): Json {
  const input = body.input;
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((x) => typeof x === 'string') ? (input as string[]) : undefined;
  if (!inputs || !inputs.length) throw badRequest(ErrorCode.INVALID_REQUEST, 'oracle embeddings take a string or an array of strings', 'input');
  const out: Json = { inputs };
  if (typeof body.input_type === 'string') {
    const t = INPUT_TYPES[body.input_type.toLowerCase()];
    if (!t) throw badRequest(ErrorCode.INVALID_REQUEST, `input_type must be one of ${Object.keys(INPUT_TYPES).join(', ')}`, 'input_type');
    out.inputType = t;
  }
  if (typeof body.truncate === 'string') {
    const t = TRUNCATE[body.truncate.toLowerCase()];
    if (!t) throw badRequest(ErrorCode.INVALID_REQUEST, 'truncate must be NONE, START or END', 'truncate');
    out.truncate = t;
  }
  if (typeof body.dimensions === 'number') out.outputDimensions = body.dimensions;
  return out;
}

/** The upstream request for embeddings. */
export function buildEmbeddings(input: BuildInput): UpstreamRequest {
  const t = resolveTarget(input);
  const details = { ...toEmbedText(input.body ?? {}), servingMode: t.servingMode, compartmentId: t.compartmentId };
  return signedAction(input, t, 'embedText', details);
}

/** EmbedTextResult → OpenAI's embeddings list (base64 when the caller asked, as the `openai` SDK does by default). */
export function mapEmbeddings(json: unknown, input: BuildInput): unknown {
  if (!isObj(json) || !Array.isArray(json.embeddings))
    throw new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'oracle answered embedText without embeddings', { type: 'server_error' });
  const base64 = input.body?.encoding_format === 'base64';
  const u = isObj(json.usage) ? json.usage : {};
  const prompt = Number(u.promptTokens ?? json.inputTextTokenCount ?? 0);
  return {
    object: 'list',
    data: json.embeddings.map((embedding: unknown, index: number) => ({
      object: 'embedding',
      index,
      embedding: base64 ? base64Embedding(embedding) : embedding,
    })),
    model: String(input.body?.model || json.modelId || ''),
    usage: { prompt_tokens: prompt, total_tokens: Number(u.totalTokens ?? prompt) },
  };
}
