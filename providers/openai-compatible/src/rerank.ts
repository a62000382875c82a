import { ErrorCode, GatewayError, isRetryableStatus } from '@waygate/core';
import { badAnswer, isObj, parseRerankRequest, rerankTexts, toCohereRerank } from '@waygate/provider-kit';
import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import type { Json } from '@waygate/provider-kit';

/**
 * `POST {base}/rerank` for the OpenAI-compatible providers that rerank. Two dialects:
 *
 * - `cohere` (Jina, Together, vLLM): the request is already in their shape, so it is sent as the
 *   caller wrote it (documents as strings or objects, new fields kept), with `return_documents: false`
 *   (the gateway puts the asked-for documents back itself); the answer's `results` and `usage`
 *   become Cohere's `results` and `meta.billed_units.input_tokens`.
 * - `voyage` (Voyage AI): `top_n` is sent as `top_k`, documents as strings, and the answer's `data`
 *   becomes `results`.
 */
export type RerankDialect = 'cohere' | 'voyage';

function headers(input: BuildInput): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (input.target.apiKey) h.authorization = `Bearer ${input.target.apiKey}`;
  return h;
}

/** The body sent upstream for a dialect. */
export function rerankBody(body: Json | undefined, dialect: RerankDialect): Json {
  const req = parseRerankRequest(body);
  if (dialect === 'cohere') return { ...body, return_documents: false };
  const out: Json = { query: req.query, documents: rerankTexts(req), return_documents: false };
  if (req.model) out.model = req.model;
  if (req.top_n !== undefined) out.top_k = req.top_n;
  if (typeof body?.truncation === 'boolean') out.truncation = body.truncation;
  return out;
}

/** Input tokens from an OpenAI-style `usage` (`prompt_tokens`, else `total_tokens`), as Cohere's `meta`. */
function metaOf(json: Json): Json | undefined {
  const u = json.usage;
  if (isObj(u)) {
    const tokens = typeof u.prompt_tokens === 'number' ? u.prompt_tokens : typeof u.total_tokens === 'number' ? u.total_tokens : undefined;
    if (tokens !== undefined) return { billed_units: { input_tokens: tokens } };
  }
  return isObj(json.meta) ? json.meta : undefined;
}

/** An upstream's rerank answer in its dialect → Cohere's. */
export function fromRerank(provider: string, json: unknown, input: BuildInput, dialect: RerankDialect): Json {
  const req = parseRerankRequest(input.body);
  const list: unknown = isObj(json) ? (dialect === 'voyage' ? json.data : json.results) : undefined;
  if (!isObj(json) || !Array.isArray(list)) throw badAnswer(provider, `no ${dialect === 'voyage' ? 'data' : 'results'} array`);
  const ranked = list.map((r: unknown) => (isObj(r) ? { index: r.index, score: r.relevance_score } : { index: undefined, score: undefined }));
  return toCohereRerank(provider, req, ranked, {
    id: typeof json.id === 'string' ? json.id : input.ctx.id,
    model: typeof json.model === 'string' ? json.model : undefined,
    meta: metaOf(json),
  });
}

/** The message of an error answer: FastAPI's `detail` (Jina, Voyage, vLLM; a string or a list of field errors), OpenAI's `error.message`, or `message`. */
export function rerankErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 1000) || undefined;
  if (!isObj(body)) return undefined;
  const { detail, error, message } = body;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    const parts = detail.map((d: unknown) =>
      isObj(d) ? `${Array.isArray(d.loc) ? `${d.loc.join('.')}: ` : ''}${typeof d.msg === 'string' ? d.msg : JSON.stringify(d)}` : String(d),
    );
    if (parts.length) return parts.join('; ');
  }
  if (isObj(error) && typeof error.message === 'string') return error.message;
  if (typeof error === 'string') return error;
  return typeof message === 'string' ? message : undefined;
}

/** The rerank endpoint of an OpenAI-compatible provider that serves one. */
export function rerankEndpoint(provider: string, dialect: RerankDialect = 'cohere'): EndpointAdapter {
  return {
    build: (input): UpstreamRequest => ({
      url: `${input.target.baseURL}/rerank`,
      method: 'POST',
      headers: headers(input),
      body: JSON.stringify(rerankBody(input.body, dialect)),
    }),
    mapResponse: (json, input) => fromRerank(provider, json, input, dialect),
    mapError: (status, body, h) =>
      new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `${provider}: ${rerankErrorMessage(body) ?? `answered status ${status}`}`, {
        retryable: isRetryableStatus(status),
        upstream: { status, body, headers: h },
      }),
  };
}
