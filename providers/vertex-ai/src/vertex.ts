import { ErrorCode, GatewayError, badRequest, base64Embedding } from '@waygate/core';
import type { BuildInput, EndpointAdapter, ProviderAdapter, StreamTransformer, UpstreamRequest } from '@waygate/core';
import { GoogleStreamTransformer, mapGoogleError, toGeminiRequest, toOpenAIResponse as geminiToOpenAI } from '@waygate/provider-google';
import { AnthropicStreamTransformer, mapAnthropicError, toAnthropicRequest, toOpenAIResponse as claudeToOpenAI } from '@waygate/provider-anthropic';
import { TokenCache, parseServiceAccount } from './auth.js';
import type { ServiceAccount } from './auth.js';

/**
 * Google Vertex AI behind Waygate's canonical (OpenAI) format. Gemini models are called with
 * `generateContent` / `streamGenerateContent?alt=sse` and translated with the Google adapter's
 * mapping; Claude models (Anthropic on Vertex) with `rawPredict` / `streamRawPredict` and the
 * Anthropic adapter's mapping; text embeddings with `predict`. Anthropic's Messages API passes
 * through to Claude models and reaches Gemini models through the gateway's Messages bridge. Auth is
 * an OAuth access token (the target's key) or a service account whose token is minted and cached
 * (see auth.ts).
 */

type Json = Record<string, unknown>;

/**
 * The adapter's nominal base URL. It is a template, not an address: without a custom host the real
 * prefix is `https://{vertex_region}-aiplatform.googleapis.com/v1` (or `https://aiplatform.googleapis.com/v1`
 * for the `global` location). The kernel needs a default to route a leaf without custom_host.
 */
export const VERTEX_HOST_TEMPLATE = 'https://{vertex_region}-aiplatform.googleapis.com/v1';
export const DEFAULT_REGION = 'us-central1';
/** The `anthropic_version` Claude on Vertex wants in the request body. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/** A location goes into a host name: lower-case letters, digits and hyphens only. */
const REGION_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** Project ids (also the domain-scoped `example.com:project` form) go into the path unencoded. */
const PROJECT_RE = /^[A-Za-z0-9][A-Za-z0-9.:_-]{0,127}$/;
/** A model id goes into the path before `:method`: no slashes, no colons. `@` is kept (claude-…@20250929). */
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The key of this adapter's entry in `BuildInput.prepared`. */
const SLOT = 'vertex-ai';
interface PreparedSlot {
  opts: VertexOptions;
  token?: string;
}

export type Publisher = 'google' | 'anthropic';

export interface VertexModel {
  publisher: Publisher;
  /** The model id as it goes into the path, e.g. `gemini-2.0-flash`, `claude-sonnet-4-5@20250929`. */
  model: string;
}

/**
 * Which publisher serves a model, and its id. `claude…` (and `anthropic/…`, `anthropic.…`) is
 * Anthropic's; everything else Google's. `publishers/<p>/models/<m>`, `google/…` and a leading
 * `models/` are accepted too.
 */
export function parseModel(raw: unknown): VertexModel {
  if (typeof raw !== 'string' || !raw.trim()) throw badRequest(ErrorCode.INVALID_REQUEST, 'model is required for vertex-ai', 'model');
  let name = raw.trim();
  let publisher: string | undefined;
  const full = /^publishers\/([^/]+)\/models\/([^/]+)$/.exec(name);
  const prefixed = /^(anthropic|google)[/.](.+)$/.exec(name);
  if (full) [, publisher, name] = full as unknown as [string, string, string];
  else if (prefixed) [, publisher, name] = prefixed as unknown as [string, string, string];
  else name = name.replace(/^models\//, '');
  publisher ??= /^claude/i.test(name) ? 'anthropic' : 'google';
  if (publisher !== 'google' && publisher !== 'anthropic') {
    throw badRequest(
      ErrorCode.INVALID_REQUEST,
      `vertex-ai serves the google (Gemini) and anthropic (Claude) publishers; ${JSON.stringify(publisher.slice(0, 40))} is not supported`,
      'model',
    );
  }
  if (!MODEL_RE.test(name)) throw badRequest(ErrorCode.INVALID_REQUEST, `model ${JSON.stringify(raw.slice(0, 80))} is not a Vertex AI model id`, 'model');
  return { publisher, model: name };
}

/** Reads a provider option from the target's config node (snake_case), else `x-waygate-…` / `x-portkey-…` headers. */
function option(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const v = input.target.node[key];
  if (typeof v === 'string' && v.trim()) return v.trim();
  const h = input.ctx.headers;
  const own = h[`x-waygate-${headerSuffix}`] ?? h[`x-portkey-${headerSuffix}`];
  return typeof own === 'string' && own.trim() ? own.trim() : undefined;
}

/**
 * The target's service account, if it has one: `vertex_service_account_json` in the config node (an
 * object or JSON text), else the `x-waygate-vertex-service-account-json` / `x-portkey-…` header.
 */
export function serviceAccountOf(input: BuildInput): ServiceAccount | undefined {
  const fromNode = input.target.node.vertex_service_account_json;
  const h = input.ctx.headers;
  if (fromNode !== undefined && fromNode !== null && fromNode !== '') {
    const where = `${input.target.path}.vertex_service_account_json`;
    // A config without a config header is the gateway's own (its file's routing). Its service
    // account's tokens must never be sent to a host the request chose.
    const requestHost = h['x-waygate-custom-host'] ?? h['x-portkey-custom-host'];
    const requestConfig = h['x-waygate-config'] ?? h['x-portkey-config'];
    if (requestHost !== undefined && requestConfig === undefined) {
      throw new GatewayError(
        ErrorCode.MISSING_CREDENTIALS,
        400,
        `${where}: a request-supplied custom host cannot be used with the gateway's own vertex-ai service account; send your own credentials`,
        { param: where },
      );
    }
    return parseServiceAccount(fromNode, where);
  }
  const header = h['x-waygate-vertex-service-account-json'] ?? h['x-portkey-vertex-service-account-json'];
  if (typeof header === 'string' && header.trim()) {
    const name = h['x-waygate-vertex-service-account-json'] !== undefined ? 'x-waygate-vertex-service-account-json' : 'x-portkey-vertex-service-account-json';
    return parseServiceAccount(header, name);
  }
  return undefined;
}

export interface VertexOptions {
  project: string;
  region: string;
  serviceAccount?: ServiceAccount;
}

/** Project, region and service account for a target, from config keys or headers (Portkey's names). */
export function vertexOptions(input: BuildInput): VertexOptions {
  const p = input.target.path;
  const serviceAccount = serviceAccountOf(input);
  const project = option(input, 'vertex_project_id', 'vertex-project-id') ?? serviceAccount?.projectId;
  if (!project) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${p}: vertex-ai needs vertex_project_id (or the x-waygate-vertex-project-id header, or a service account with a project_id)`,
      `${p}.vertex_project_id`,
    );
  }
  if (!PROJECT_RE.test(project)) {
    throw badRequest(ErrorCode.INVALID_CONFIG, `${p}: vertex_project_id ${JSON.stringify(project.slice(0, 60))} is not a Google Cloud project id`, `${p}.vertex_project_id`);
  }
  const region = (option(input, 'vertex_region', 'vertex-region') ?? DEFAULT_REGION).toLowerCase();
  if (!REGION_RE.test(region)) {
    throw badRequest(ErrorCode.INVALID_CONFIG, `${p}: vertex_region ${JSON.stringify(region.slice(0, 60))} is not a Vertex AI location`, `${p}.vertex_region`);
  }
  return { project, region, serviceAccount };
}

/** The `https://{host}/v1` prefix: the target's custom host as given, else the region's Vertex AI host. */
export function vertexBaseURL(input: BuildInput, region: string): string {
  const b = input.target.baseURL;
  if (b && b !== VERTEX_HOST_TEMPLATE) return b.replace(/\/+$/, '');
  return region === 'global' ? 'https://aiplatform.googleapis.com/v1' : `https://${region}-aiplatform.googleapis.com/v1`;
}

/** The full URL of a publisher model's method, e.g. `…/publishers/google/models/gemini-2.0-flash:generateContent`. */
export function vertexURL(input: BuildInput, opts: VertexOptions, m: VertexModel, method: string): string {
  return `${vertexBaseURL(input, opts.region)}/projects/${opts.project}/locations/${opts.region}/publishers/${m.publisher}/models/${m.model}:${method}`;
}

/** A Vertex AI error answer as a GatewayError: Anthropic-shaped bodies (Claude's own errors) are read as such, Google's (`{error:{code,message,status}}`) as Google's. */
export function mapVertexError(status: number, body: unknown, headers: Record<string, string | string[] | undefined>): GatewayError {
  const anthropicShaped = isObj(body) && (body.type === 'error' || (isObj(body.error) && typeof body.error.type === 'string' && body.error.status === undefined));
  return anthropicShaped ? mapAnthropicError(status, body, headers) : mapGoogleError(status, body, headers);
}

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

/** The Vertex AI provider with its own token cache (one per gateway; tests make their own). */
export function createVertexProvider(opts: { tokenCache?: TokenCache } = {}): ProviderAdapter & { tokenCache: TokenCache } {
  const tokenCache = opts.tokenCache ?? new TokenCache();
  /** What prepare() hands build() for one attempt, in the attempt's `input.prepared` scratch space. */
  const slotOf = (input: BuildInput): PreparedSlot | undefined => input.prepared?.[SLOT] as PreparedSlot | undefined;
  const optionsOf = (input: BuildInput): VertexOptions => slotOf(input)?.opts ?? vertexOptions(input);

  /**
   * The asynchronous step the kernel awaits before build(): resolves the options once and, for a
   * service account, makes sure an access token is at hand. No promise when there is nothing to wait for.
   */
  const prepare = (input: BuildInput): Promise<void> | void => {
    const o = vertexOptions(input);
    const slot: PreparedSlot = { opts: o };
    (input.prepared ??= {})[SLOT] = slot;
    if (!o.serviceAccount) return undefined;
    const t = tokenCache.get(o.serviceAccount);
    if (typeof t === 'string') {
      slot.token = t;
      return undefined;
    }
    return t.then((token) => {
      slot.token = token;
    });
  };

  const authHeaders = (input: BuildInput, o: VertexOptions): Record<string, string> => {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (o.serviceAccount) {
      const token = slotOf(input)?.token ?? tokenCache.peek(o.serviceAccount);
      if (!token) {
        throw new GatewayError(
          ErrorCode.INTERNAL,
          500,
          'vertex-ai: no access token for the service account yet; the gateway core must await endpoint.prepare(input) before build(input)',
          { type: 'server_error' },
        );
      }
      h.authorization = `Bearer ${token}`;
      return h;
    }
    const key = input.target.apiKey?.replace(/^Bearer\s+/i, '').trim();
    if (!key) {
      throw new GatewayError(
        ErrorCode.MISSING_CREDENTIALS,
        401,
        'vertex-ai needs credentials: an OAuth access token (Authorization: Bearer <token>, or api_key) or a service account (vertex_service_account_json, or the x-waygate-vertex-service-account-json header)',
        { type: 'authentication_error' },
      );
    }
    h.authorization = `Bearer ${key}`;
    return h;
  };

  const anthropicBeta = (input: BuildInput, clientHeader: boolean): string | undefined => {
    const v = option(input, 'anthropic_beta', 'anthropic-beta');
    if (v) return v;
    const raw = clientHeader ? input.ctx.headers['anthropic-beta'] : undefined;
    return typeof raw === 'string' && raw ? raw : undefined;
  };

  const buildChat = (input: BuildInput): UpstreamRequest => {
    const body = input.body ?? {};
    const m = parseModel(body.model);
    const o = optionsOf(input);
    const headers = authHeaders(input, o);
    const stream = body.stream === true;
    if (m.publisher === 'anthropic') {
      const payload = toAnthropicRequest(body, input);
      delete payload.model;
      payload.anthropic_version = VERTEX_ANTHROPIC_VERSION;
      const beta = anthropicBeta(input, false);
      if (beta) headers['anthropic-beta'] = beta;
      return { url: vertexURL(input, o, m, stream ? 'streamRawPredict' : 'rawPredict'), method: 'POST', headers, body: JSON.stringify(payload) };
    }
    return {
      url: vertexURL(input, o, m, stream ? 'streamGenerateContent?alt=sse' : 'generateContent'),
      method: 'POST',
      headers,
      body: JSON.stringify(toGeminiRequest(body)),
    };
  };

  const chatCompletions: EndpointAdapter = {
    prepare,
    build: buildChat,
    mapResponse: (json, input) => {
      if (!isObj(json)) return json;
      return parseModel(input.body?.model).publisher === 'anthropic' ? claudeToOpenAI(json) : geminiToOpenAI(json, input.body?.model);
    },
    createStreamTransformer: (input) => {
      const so = input.body?.stream_options;
      const includeUsage = isObj(so) && so.include_usage === true;
      return parseModel(input.body?.model).publisher === 'anthropic'
        ? new AnthropicStreamTransformer(includeUsage)
        : new GoogleStreamTransformer(includeUsage, String(input.body?.model ?? ''));
    },
    mapError: mapVertexError,
  };

  const embeddings: EndpointAdapter = {
    prepare,
    build: (input) => {
      const body = input.body ?? {};
      const m = parseModel(body.model);
      if (m.publisher !== 'google') {
        throw new GatewayError(ErrorCode.UNSUPPORTED_ENDPOINT, 400, `vertex-ai: ${m.model} is a Claude model; embeddings are served by Google's text-embedding models only`, {
          param: 'model',
        });
      }
      const o = optionsOf(input);
      return { url: vertexURL(input, o, m, 'predict'), method: 'POST', headers: authHeaders(input, o), body: JSON.stringify(toVertexEmbedRequest(body)) };
    },
    mapResponse: (json, input) => (isObj(json) ? toOpenAIEmbeddings(json, input.body?.model, input.body?.encoding_format) : json),
    mapError: mapGoogleError,
  };

  /** Anthropic's Messages API as it is, for Claude models: the body passes through with `model` moved into the URL. */
  const claudeMessages: EndpointAdapter = {
    prepare,
    build: (input) => {
      const body = input.body ?? {};
      const m = parseModel(body.model);
      const o = optionsOf(input);
      const headers = authHeaders(input, o);
      const beta = anthropicBeta(input, true);
      if (beta) headers['anthropic-beta'] = beta;
      const { model: _model, ...rest } = body;
      const payload = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest };
      return { url: vertexURL(input, o, m, body.stream === true ? 'streamRawPredict' : 'rawPredict'), method: 'POST', headers, body: JSON.stringify(payload) };
    },
    mapError: mapVertexError,
  };

  /**
   * Gemini models on the Messages API: the gateway's bridge (registered with the `messages` endpoint
   * by the plugin that serves it) wrapped around this provider's own chat adapter, so the Anthropic
   * request is translated to a chat request, sent with `generateContent`, and the answer translated
   * back. Wrapped once per gateway (per definition), never per request.
   */
  const bridged = new WeakMap<object, EndpointAdapter>();
  const geminiMessages = (input: BuildInput, model: string): EndpointAdapter => {
    // The optional chain is for inputs made without a gateway (unit tests).
    const bridge = input.ctx.kernel?.endpoints.get('messages')?.bridge;
    const inner = bridge && bridge.via !== 'messages' ? endpoints[bridge.via] : undefined;
    if (!bridge || !inner) {
      throw new GatewayError(
        ErrorCode.UNSUPPORTED_ENDPOINT,
        400,
        `vertex-ai passes the Messages API through for Claude models only; ${model} is a Gemini model, and this gateway's Messages endpoint cannot translate to chat completions (load @waygate/anthropic-messages, or use /v1/chat/completions)`,
        { param: 'model' },
      );
    }
    let adapter = bridged.get(bridge);
    if (!adapter) bridged.set(bridge, (adapter = bridge.wrap(inner, 'vertex-ai')));
    return adapter;
  };
  /** The adapter that serves one Messages request: by the model's publisher. */
  const messagesFor = (input: BuildInput): EndpointAdapter => {
    const m = parseModel(input.body?.model);
    return m.publisher === 'anthropic' ? claudeMessages : geminiMessages(input, m.model);
  };

  /**
   * `/v1/messages`, dispatched per request: Claude → the pass-through above; Gemini → the bridge.
   * Every step that sees the request asks the same question; mapError does not see it, and
   * mapVertexError reads both Vertex's google.rpc errors and Claude's Anthropic-shaped ones (the
   * bridge maps errors with the chat adapter's mapError, which is mapVertexError too).
   */
  const messages: EndpointAdapter = {
    prepare: (input) => messagesFor(input).prepare?.(input),
    build: (input) => messagesFor(input).build(input),
    // The pass-through has no mapping: its answer is returned as it came (the kernel re-serializes it).
    mapResponse: (json, input) => {
      const a = messagesFor(input);
      return a.mapResponse ? a.mapResponse(json, input) : json;
    },
    // Undefined for the pass-through: the kernel then relays the upstream's events as they are and
    // checks the stream's proper end (message_stop), as for an adapter with no transformer at all.
    createStreamTransformer: (input) => messagesFor(input).createStreamTransformer?.(input) as StreamTransformer,
    mapError: mapVertexError,
  };

  const endpoints: ProviderAdapter['endpoints'] = { 'chat.completions': chatCompletions, embeddings, messages };
  return {
    id: 'vertex-ai',
    displayName: 'Google Vertex AI',
    baseURL: VERTEX_HOST_TEMPLATE,
    endpoints,
    tokenCache,
  };
}

/** The Vertex AI provider adapter the plugin registers, with the process-wide token cache. */
export const vertexAI = createVertexProvider();
