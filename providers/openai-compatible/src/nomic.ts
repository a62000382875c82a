import { badRequest, ErrorCode } from '@waygate/core';
import { badAnswer, isObj } from '@waygate/provider-kit';
import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import type { Json } from '@waygate/provider-kit';

/** Nomic's task types; OpenAI's request has no such field, so a caller names one as `task_type` (default `search_document`). */
const TASK_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);

/**
 * OpenAI's embeddings request as Nomic's `POST {base}/embedding/text`: `input` (a string or strings)
 * as `texts`, `dimensions` as `dimensionality`, `task_type` kept. Token arrays are refused (Nomic
 * takes text only).
 */
export function nomicBody(body: Json | undefined): Json {
  const input = body?.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
    throw badRequest(ErrorCode.INVALID_REQUEST, 'nomic: input must be a string or an array of strings', 'input');
  }
  const out: Json = { texts };
  if (typeof body?.model === 'string') out.model = body.model;
  const task = body?.task_type ?? 'search_document';
  if (typeof task !== 'string' || !TASK_TYPES.has(task)) {
    throw badRequest(ErrorCode.INVALID_REQUEST, `nomic: task_type must be one of ${[...TASK_TYPES].join(', ')}`, 'task_type');
  }
  out.task_type = task;
  if (typeof body?.dimensions === 'number') out.dimensionality = body.dimensions;
  return out;
}

/** Nomic's `{embeddings: number[][], usage, model}` as OpenAI's list. */
export function fromNomic(json: unknown, input: BuildInput): Json {
  if (!isObj(json) || !Array.isArray(json.embeddings)) throw badAnswer('nomic', 'no embeddings array');
  const usage = isObj(json.usage) ? json.usage : {};
  const total = typeof usage.total_tokens === 'number' ? usage.total_tokens : undefined;
  const prompt = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : total;
  return {
    object: 'list',
    data: json.embeddings.map((embedding: unknown, index: number) => ({ object: 'embedding', index, embedding })),
    model: typeof json.model === 'string' ? json.model : typeof input.body?.model === 'string' ? input.body.model : 'nomic',
    usage: { prompt_tokens: prompt ?? 0, total_tokens: total ?? prompt ?? 0 },
  };
}

/** Nomic's text embeddings endpoint. */
export function nomicEmbeddings(): EndpointAdapter {
  return {
    build: (input): UpstreamRequest => {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (input.target.apiKey) headers.authorization = `Bearer ${input.target.apiKey}`;
      return { url: `${input.target.baseURL}/embedding/text`, method: 'POST', headers, body: JSON.stringify(nomicBody(input.body)) };
    },
    mapResponse: fromNomic,
  };
}
