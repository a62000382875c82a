import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { toGeminiRequest } from '@waygate/provider-google';
import { toAnthropicRequest } from '@waygate/provider-anthropic';
import { parseServiceAccount } from './auth.js';
import type { ServiceAccount, TokenCache } from './auth.js';

/**
 * Requests to Vertex AI: which publisher serves a model, the target's project, region and
 * credentials, the regional URL of a publisher model's method, the auth headers (an access token, or
 * a service account's cached token), and the chat request in the publisher's format.
 */

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
    const name =
      h['x-waygate-vertex-service-account-json'] !== undefined ? 'x-waygate-vertex-service-account-json' : 'x-portkey-vertex-service-account-json';
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
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${p}: vertex_project_id ${JSON.stringify(project.slice(0, 60))} is not a Google Cloud project id`,
      `${p}.vertex_project_id`,
    );
  }
  const region = (option(input, 'vertex_region', 'vertex-region') ?? DEFAULT_REGION).toLowerCase();
  if (!REGION_RE.test(region)) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${p}: vertex_region ${JSON.stringify(region.slice(0, 60))} is not a Vertex AI location`,
      `${p}.vertex_region`,
    );
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

/**
 * A `predict` call on a Google publisher model (text embeddings, Imagen). A Claude model has no
 * such endpoint: a 400 saying what serves it (`servedBy`). `body` is made once the model is known good.
 */
export function googlePredict(tokenCache: TokenCache, input: BuildInput, model: unknown, servedBy: string, body: () => unknown): UpstreamRequest {
  const m = parseModel(model);
  if (m.publisher !== 'google') {
    throw new GatewayError(ErrorCode.UNSUPPORTED_ENDPOINT, 400, `vertex-ai: ${m.model} is a Claude model; ${servedBy}`, { param: 'model' });
  }
  const o = optionsOf(input);
  return { url: vertexURL(input, o, m, 'predict'), method: 'POST', headers: authHeaders(tokenCache, input, o), body: JSON.stringify(body()) };
}

/** What prepare() hands build() for one attempt, in the attempt's `input.prepared` scratch space. */
const slotOf = (input: BuildInput): PreparedSlot | undefined => input.prepared?.[SLOT] as PreparedSlot | undefined;
/** The attempt's options: as prepare() resolved them, else resolved now. */
export const optionsOf = (input: BuildInput): VertexOptions => slotOf(input)?.opts ?? vertexOptions(input);

/**
 * The asynchronous step the kernel awaits before build(): resolves the options once and, for a
 * service account, makes sure an access token is at hand. No promise when there is nothing to wait for.
 */
export function prepareRequest(tokenCache: TokenCache, input: BuildInput): Promise<void> | void {
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
}

/** The auth header: the service account's token (from prepare(), else the cache), else the target's key as a bearer token. */
export function authHeaders(tokenCache: TokenCache, input: BuildInput, o: VertexOptions): Record<string, string> {
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
}

/** The `anthropic-beta` header for Claude: the option, else (for the Messages pass-through) the client's header. */
export function anthropicBeta(input: BuildInput, clientHeader: boolean): string | undefined {
  const v = option(input, 'anthropic_beta', 'anthropic-beta');
  if (v) return v;
  const raw = clientHeader ? input.ctx.headers['anthropic-beta'] : undefined;
  return typeof raw === 'string' && raw ? raw : undefined;
}

/** The upstream request for a chat completion: `rawPredict` / `streamRawPredict` for Claude, `generateContent` / `streamGenerateContent?alt=sse` for Gemini. */
export function buildChat(tokenCache: TokenCache, input: BuildInput): UpstreamRequest {
  const body = input.body ?? {};
  const m = parseModel(body.model);
  const o = optionsOf(input);
  const headers = authHeaders(tokenCache, input, o);
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
}
