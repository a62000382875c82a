// Fake upstreams for moderations, rerank and the embeddings of the rerank providers, each a loopback
// FakeUpstream handler speaking that provider's documented wire format:
// - OpenAI `POST /v1/moderations` (results with categories, scores and applied input types);
// - Cohere v2 `POST /v2/rerank` (documents as strings only; `meta.billed_units.search_units`);
// - Jina `POST /v1/rerank` (Cohere's request; `usage`, documents returned by default) and `/v1/embeddings`;
// - Together `POST /v1/rerank` (`object: "rerank"`, `rank_fields` over object documents, OpenAI errors);
// - Voyage `POST /v1/rerank` (`top_k`, answers `data`, documents as strings) and `/v1/embeddings`
//   (usage as `total_tokens` only);
// - Bedrock Agent Runtime `POST /rerank` (queries/sources/rerankingConfiguration, `relevanceScore`)
//   and Bedrock Runtime `InvokeModel` for `cohere.embed-*`, every request's SigV4 signature verified.
// Relevance is the share of the query's words a document holds, so every provider ranks alike.
import { base64Vector, bedrockError, vectorFor, verifySigV4 } from './provider-upstreams.js';
import type { AwsCreds, Handler, Received, Reply } from './provider-upstreams.js';

type Json = Record<string, any>;

const words = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** The fakes' relevance of a document to a query: the share of the query's words it contains (4 decimals). */
export function relevance(query: string, doc: string): number {
  const q = words(query);
  const d = new Set(words(doc));
  return q.length ? Math.round((q.filter((w) => d.has(w)).length / q.length) * 10_000) / 10_000 : 0;
}

/** Documents' indexes and scores, most relevant first (ties by index), cut to `top`. */
export function rank(query: string, texts: string[], top?: number): Array<{ index: number; score: number }> {
  const all = texts.map((t, index) => ({ index, score: relevance(query, t) })).sort((a, b) => b.score - a.score || a.index - b.index);
  return top === undefined ? all : all.slice(0, top);
}

/** Tokens the fakes bill a rerank: the words of the query times the documents, plus the documents' words. */
export function rerankTokens(query: string, texts: string[]): number {
  return words(query).length * texts.length + texts.reduce((n, t) => n + words(t).length, 0);
}

const bearer = (req: Received, key: string) => req.headers.authorization === `Bearer ${key}`;

// ------------------------------------------------------------------ OpenAI moderations

const CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
];

/** OpenAI: `POST /v1/moderations`; `violence` is flagged for a text that says "kill"; errors in OpenAI's shape. */
export function moderationsHandler(opts: { key: string }): Handler {
  return (req) => {
    if (req.pathname !== '/v1/moderations')
      return { status: 404, json: { error: { message: `Invalid URL (POST ${req.pathname})`, type: 'invalid_request_error' } } };
    if (!bearer(req, opts.key)) {
      return {
        status: 401,
        json: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      };
    }
    const body = req.body ?? {};
    const items: unknown[] = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : [];
    if (!items.length) {
      return {
        status: 400,
        json: { error: { message: "Missing required parameter: 'input'.", type: 'invalid_request_error', param: 'input', code: null } },
      };
    }
    const model = body.model === 'text-moderation-latest' ? 'text-moderation-007' : 'omni-moderation-2024-09-26';
    const results = items.map((item: any) => {
      const text = typeof item === 'string' ? item : item?.type === 'text' ? String(item.text) : '';
      const image = typeof item === 'object' && item?.type === 'image_url';
      const violent = /\bkill\b/i.test(text);
      const categories: Json = {};
      const scores: Json = {};
      const applied: Json = {};
      for (const c of CATEGORIES) {
        categories[c] = c === 'violence' && violent;
        scores[c] = c === 'violence' && violent ? 0.9171 : 0.0001;
        applied[c] = image && /^(violence|sexual|self-harm)/.test(c) ? ['image'] : ['text'];
      }
      return { flagged: violent, categories, category_scores: scores, category_applied_input_types: applied };
    });
    return { json: { id: 'modr-970d409ef3bef3b70c73d8232df86e7d', model, results } };
  };
}

// ------------------------------------------------------------------ Cohere v2 rerank

/** Cohere v2: `POST /v2/rerank`, `Authorization: Bearer`; documents must be strings; errors as `{id, message}`. */
export function cohereRerankHandler(opts: { key: string }): Handler {
  return (req) => {
    if (req.pathname !== '/v2/rerank') return { status: 404, json: { message: `path ${req.pathname} not found` } };
    if (!bearer(req, opts.key)) return { status: 401, json: { id: 'c0e3a1b2', message: 'invalid api token' } };
    const b = req.body ?? {};
    if (typeof b.model !== 'string') return { status: 400, json: { id: 'c0e3a1b3', message: 'invalid request: model must be specified' } };
    if (!Array.isArray(b.documents) || !b.documents.every((d: unknown) => typeof d === 'string')) {
      return { status: 400, json: { id: 'c0e3a1b4', message: 'invalid request: documents must be a list of strings' } };
    }
    return {
      json: {
        id: '07734bd2-2473-4f07-94e1-0d9f0e6843cf',
        results: rank(b.query, b.documents, b.top_n).map((r) => ({ index: r.index, relevance_score: r.score })),
        meta: { api_version: { version: '2' }, billed_units: { search_units: 1 } },
      },
    };
  };
}

// ------------------------------------------------------------------ Jina

const textOf = (d: unknown): string => (typeof d === 'string' ? d : typeof (d as Json)?.text === 'string' ? (d as Json).text : '');

/** Jina: `POST /v1/rerank` (documents returned unless `return_documents: false`) and `/v1/embeddings`; errors as FastAPI's `{detail}`. */
export function jinaHandler(opts: { key: string }): Handler {
  return (req) => {
    if (!bearer(req, opts.key)) return { status: 401, json: { detail: 'Unauthorized: invalid API key' } };
    const b = req.body ?? {};
    if (req.pathname === '/v1/embeddings') {
      const inputs: string[] = typeof b.input === 'string' ? [b.input] : b.input;
      const tokens = inputs.reduce((n, t) => n + words(t).length, 0);
      return {
        json: {
          model: b.model,
          object: 'list',
          usage: { total_tokens: tokens, prompt_tokens: tokens },
          data: inputs.map((t, index) => ({
            object: 'embedding',
            index,
            embedding: b.encoding_format === 'base64' ? base64Vector(vectorFor(t)) : vectorFor(t),
          })),
        },
      };
    }
    if (req.pathname !== '/v1/rerank') return { status: 404, json: { detail: 'Not Found' } };
    if (typeof b.query !== 'string') {
      return { status: 422, json: { detail: [{ loc: ['body', 'query'], msg: 'field required', type: 'value_error.missing' }] } };
    }
    const texts = (b.documents as unknown[]).map(textOf);
    const tokens = rerankTokens(b.query, texts);
    return {
      json: {
        model: b.model ?? 'jina-reranker-v2-base-multilingual',
        usage: { total_tokens: tokens, prompt_tokens: tokens },
        results: rank(b.query, texts, b.top_n).map((r) => ({
          index: r.index,
          ...(b.return_documents === false ? {} : { document: { text: texts[r.index] } }),
          relevance_score: r.score,
        })),
      },
    };
  };
}

// ------------------------------------------------------------------ Together

/** Together: `POST /v1/rerank` (`rank_fields` over object documents), `object: "rerank"`, OpenAI-shaped errors. */
export function togetherHandler(opts: { key: string }): Handler {
  return (req) => {
    if (req.pathname !== '/v1/rerank') return { status: 404, json: { error: { message: 'Not found', type: 'invalid_request_error' } } };
    if (!bearer(req, opts.key)) {
      return {
        status: 401,
        json: { error: { message: 'Invalid API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
      };
    }
    const b = req.body ?? {};
    const fields: string[] | undefined = b.rank_fields;
    const texts = (b.documents as unknown[]).map((d) =>
      fields && typeof d === 'object' ? fields.map((f) => String((d as Json)[f] ?? '')).join(' ') : textOf(d),
    );
    const tokens = rerankTokens(b.query, texts);
    return {
      json: {
        object: 'rerank',
        id: 'oGs6Zt9-62bZBn-8bdd1bcb1a7fa7b2',
        model: b.model,
        results: rank(b.query, texts, b.top_n).map((r) => ({
          index: r.index,
          relevance_score: r.score,
          document: b.return_documents ? { text: texts[r.index] } : null,
        })),
        usage: { prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens },
      },
    };
  };
}

// ------------------------------------------------------------------ Voyage

/** Voyage: `POST /v1/rerank` (`top_k`; answers `data`, documents as strings when asked) and `/v1/embeddings` (usage as `total_tokens`); errors as `{detail}`. */
export function voyageHandler(opts: { key: string }): Handler {
  return (req) => {
    if (!bearer(req, opts.key)) return { status: 401, json: { detail: 'Provided API key is invalid.' } };
    const b = req.body ?? {};
    if (req.pathname === '/v1/embeddings') {
      const inputs: string[] = typeof b.input === 'string' ? [b.input] : b.input;
      return {
        json: {
          object: 'list',
          data: inputs.map((t, index) => ({
            object: 'embedding',
            embedding: b.encoding_format === 'base64' ? base64Vector(vectorFor(t)) : vectorFor(t),
            index,
          })),
          model: b.model,
          usage: { total_tokens: inputs.reduce((n, t) => n + words(t).length, 0) },
        },
      };
    }
    if (req.pathname !== '/v1/rerank') return { status: 404, json: { detail: 'Not Found' } };
    if (typeof b.model !== 'string') return { status: 400, json: { detail: 'Please provide a model name.' } };
    if (!Array.isArray(b.documents) || !b.documents.every((d: unknown) => typeof d === 'string')) {
      return { status: 400, json: { detail: 'Value error, documents must be a list of strings.' } };
    }
    return {
      json: {
        object: 'list',
        data: rank(b.query, b.documents, b.top_k).map((r) => ({
          relevance_score: r.score,
          index: r.index,
          ...(b.return_documents ? { document: b.documents[r.index] } : {}),
        })),
        model: b.model,
        usage: { total_tokens: rerankTokens(b.query, b.documents) },
      },
    };
  };
}

// ------------------------------------------------------------------ Bedrock

const RERANK_ARN = /^arn:aws:bedrock:([a-z0-9-]+)::foundation-model\/(amazon\.rerank-v1:0|cohere\.rerank-v3-5:0)$/;

/**
 * Bedrock: Agent Runtime `POST /rerank` and Runtime `POST /model/cohere.embed-*\/invoke`, both under
 * SigV4 (service `bedrock`); Rerank's body checked as AWS documents it (one TEXT query, 1..1000
 * INLINE TEXT sources, a reranking model's ARN), errors with `x-amzn-errortype`.
 */
export function bedrockRerankHandler(opts: { creds: AwsCreds }): Handler {
  return (req): Reply => {
    const bad = verifySigV4(req, opts.creds, 'bedrock');
    if (bad) return bedrockError(bad.status, bad.type, bad.message);
    const b = req.body ?? {};
    const invoke = /^\/model\/([^/]+)\/invoke$/.exec(req.pathname);
    if (invoke && decodeURIComponent(invoke[1]!).startsWith('cohere.embed')) {
      if (!Array.isArray(b.texts) || typeof b.input_type !== 'string') {
        return bedrockError(
          400,
          'ValidationException',
          'Malformed input request: #: required key [texts] not found, please reformat your input and try again.',
        );
      }
      return { json: { id: 'a1b2c3d4-embed', embeddings: b.texts.map((t: string) => vectorFor(t)), texts: b.texts, response_type: 'embeddings_floats' } };
    }
    if (req.pathname !== '/rerank') return bedrockError(404, 'UnknownOperationException', 'Unknown operation');
    const query = b.queries?.[0];
    const sources: Json[] = Array.isArray(b.sources) ? b.sources : [];
    const conf = b.rerankingConfiguration?.bedrockRerankingConfiguration;
    const arn = RERANK_ARN.exec(String(conf?.modelConfiguration?.modelArn ?? ''));
    if (b.queries?.length !== 1 || query?.type !== 'TEXT' || typeof query.textQuery?.text !== 'string') {
      return bedrockError(
        400,
        'ValidationException',
        "1 validation error detected: Value at 'queries' failed to satisfy constraint: Member must have length 1",
      );
    }
    if (
      !sources.length ||
      sources.length > 1000 ||
      !sources.every((s) => s.type === 'INLINE' && typeof s.inlineDocumentSource?.textDocument?.text === 'string')
    ) {
      return bedrockError(400, 'ValidationException', "1 validation error detected: Value at 'sources' failed to satisfy constraint");
    }
    if (b.rerankingConfiguration?.type !== 'BEDROCK_RERANKING_MODEL' || !arn) {
      return bedrockError(400, 'ValidationException', 'The provided model identifier is invalid.');
    }
    const texts = sources.map((s) => s.inlineDocumentSource.textDocument.text as string);
    return {
      headers: { 'x-amzn-requestid': '5d3f1c2a-9b8e-4f7d-a6c5-b4e3d2c1f0a9' },
      json: {
        results: rank(query.textQuery.text, texts, conf.numberOfResults).map((r) => ({
          index: r.index,
          relevanceScore: r.score,
          document: { type: 'TEXT', textDocument: { text: texts[r.index] } },
        })),
      },
    };
  };
}
