import type { BuildInput, Endpoint, EndpointAdapter, ProviderAdapter, UpstreamRequest } from '@waygate/core';

/**
 * An adapter for the OpenAI wire format. Since Waygate's canonical format is OpenAI's, requests pass
 * through: the client's bytes are forwarded untouched when nothing changed them, unknown fields
 * included, and answers and streams are relayed without translation.
 */
export interface OpenAIWireOptions {
  id: string;
  displayName?: string;
  /** Default base URL, including the version path (e.g. `https://api.openai.com/v1`). Absent: a custom host is required. */
  baseURL?: string;
  /** Endpoints this provider serves; default: chat completions, completions, embeddings and models. */
  endpoints?: readonly Endpoint[];
  /** Extra headers for a request (organization, project, ...). */
  headers?: (input: BuildInput) => Record<string, string | undefined>;
  /** How the key is sent; default `Authorization: Bearer <key>`. */
  authHeader?: (key: string) => [string, string];
}

const PATHS: Record<string, { path: string; method: UpstreamRequest['method'] }> = {
  'chat.completions': { path: '/chat/completions', method: 'POST' },
  completions: { path: '/completions', method: 'POST' },
  embeddings: { path: '/embeddings', method: 'POST' },
  models: { path: '/models', method: 'GET' },
};

const DEFAULT_ENDPOINTS: readonly Endpoint[] = ['chat.completions', 'completions', 'embeddings', 'models'];

const bearer = (key: string): [string, string] => ['authorization', `Bearer ${key}`];

export function createOpenAIWireAdapter(opts: OpenAIWireOptions): ProviderAdapter {
  const endpoints: Partial<Record<Endpoint, EndpointAdapter>> = {};
  const auth = opts.authHeader ?? bearer;
  for (const name of opts.endpoints ?? DEFAULT_ENDPOINTS) {
    const route = PATHS[name];
    if (!route) throw new Error(`${opts.id}: the OpenAI wire adapter has no endpoint ${name}`);
    endpoints[name] = {
      build(input: BuildInput): UpstreamRequest {
        const { target } = input;
        const headers: Record<string, string> = {};
        if (target.apiKey) {
          const [k, v] = auth(target.apiKey);
          headers[k] = v;
        }
        if (opts.headers) {
          const extra = opts.headers(input);
          for (const k in extra) if (extra[k] !== undefined) headers[k] = extra[k]!;
        }
        const req: UpstreamRequest = { url: `${target.baseURL}${route.path}`, method: route.method, headers };
        if (route.method === 'POST') {
          headers['content-type'] = 'application/json';
          req.body = input.rawBody ?? JSON.stringify(input.body ?? {});
        }
        return req;
      },
    };
  }
  return { id: opts.id, displayName: opts.displayName, baseURL: opts.baseURL, endpoints };
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
