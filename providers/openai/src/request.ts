import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { RESPONSES_PATHS } from './responses.js';

/** How a request in OpenAI's wire format is sent: extra headers, and the header that carries the key. */
export interface WireRequestOptions {
  /** Extra headers for a request (organization, project, ...). */
  headers?: (input: BuildInput) => Record<string, string | undefined>;
  /** How the key is sent; default `Authorization: Bearer <key>`. */
  authHeader?: (key: string) => [string, string];
}

export interface WireRoute {
  path: string;
  method: UpstreamRequest['method'];
}

export const PATHS: Record<string, WireRoute> = {
  'chat.completions': { path: '/chat/completions', method: 'POST' },
  completions: { path: '/completions', method: 'POST' },
  embeddings: { path: '/embeddings', method: 'POST' },
  models: { path: '/models', method: 'GET' },
  moderations: { path: '/moderations', method: 'POST' },
  ...RESPONSES_PATHS,
};

const bearer = (key: string): [string, string] => ['authorization', `Bearer ${key}`];

/** The headers that are the gateway's on every request: the target's key in its header, and the extra headers. */
export function gatewayHeaders(opts: WireRequestOptions, input: BuildInput): Record<string, string> {
  const headers: Record<string, string> = {};
  if (input.target.apiKey) {
    const [k, v] = (opts.authHeader ?? bearer)(input.target.apiKey);
    headers[k] = v;
  }
  if (opts.headers) {
    const extra = opts.headers(input);
    for (const k in extra) if (extra[k] !== undefined) headers[k] = extra[k]!;
  }
  return headers;
}

/** The client's path below the API version (`/v1/files/f-1` → `/files/f-1`), for a base URL that holds the version. */
export const versionlessPath = (ctx: BuildInput['ctx']): string => ctx.path.replace(/^\/v1(?=\/)/, '');

/**
 * The build() of one endpoint: the route on the target's base URL, the key in its header, the extra
 * headers, and for a POST the client's bytes when nothing changed them (else the serialized body).
 */
export function wireRequest(opts: WireRequestOptions, route: WireRoute): (input: BuildInput) => UpstreamRequest {
  return (input: BuildInput): UpstreamRequest => {
    const headers = gatewayHeaders(opts, input);
    const req: UpstreamRequest = { url: `${input.target.baseURL}${route.path}`, method: route.method, headers };
    if (route.method === 'POST') {
      headers['content-type'] = 'application/json';
      req.body = input.rawBody ?? JSON.stringify(input.body ?? {});
    }
    return req;
  };
}

/**
 * The endpoints served by forwarding the client's request as it came: the path after `/v1` on the
 * target's base URL, the query, the method, the body's bytes and their type (multipart included);
 * the answer (JSON, or bytes such as audio and file contents) is relayed as the upstream sent it.
 */
export const FORWARDED_ENDPOINTS: readonly string[] = [
  'images.generations',
  'images.edits',
  'images.variations',
  'audio.speech',
  'audio.transcriptions',
  'audio.translations',
  'files',
  'batches',
  'passthrough',
];

/** The build() of a forwarded endpoint (see FORWARDED_ENDPOINTS): only the key and the extra headers are the gateway's. */
export function forwardRequest(opts: WireRequestOptions): (input: BuildInput) => UpstreamRequest {
  return (input: BuildInput): UpstreamRequest => {
    const { target, ctx } = input;
    const headers = gatewayHeaders(opts, input);
    const accept = ctx.headers.accept;
    if (typeof accept === 'string') headers.accept = accept;
    const method = ctx.method as UpstreamRequest['method'];
    const req: UpstreamRequest = { url: `${target.baseURL}${versionlessPath(ctx)}${ctx.query}`, method, headers };
    if (method === 'POST') {
      const type = ctx.headers['content-type'];
      headers['content-type'] = typeof type === 'string' ? type : 'application/json';
      req.body = input.rawBody ?? JSON.stringify(input.body ?? {});
    }
    return req;
  };
}

/** Header names per option, built once. */
const headerNames = new Map<string, [string, string]>();

/** Reads a provider option from the target's config node: its snake_case name, or a request header in Waygate's and Portkey's names. */
export function targetOption(input: BuildInput, key: string, headerSuffix: string): string | undefined {
  const fromConfig = input.target.node[key];
  if (typeof fromConfig === 'string' && fromConfig) return fromConfig;
  const h = input.ctx.headers;
  let names = headerNames.get(headerSuffix);
  if (!names) headerNames.set(headerSuffix, (names = [`x-waygate-${headerSuffix}`, `x-portkey-${headerSuffix}`]));
  const own = h[names[0]] ?? h[names[1]];
  return typeof own === 'string' && own ? own : undefined;
}

/** OpenAI's own headers: organization, project and beta, from the config node or request headers. */
export const openaiHeaders = (input: BuildInput): Record<string, string | undefined> => ({
  'openai-organization': targetOption(input, 'openai_organization', 'openai-organization'),
  'openai-project': targetOption(input, 'openai_project', 'openai-project'),
  'openai-beta': targetOption(input, 'openai_beta', 'openai-beta'),
});
