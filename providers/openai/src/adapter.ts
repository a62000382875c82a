import type { Endpoint, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { PATHS, openaiHeaders, wireRequest } from './request.js';
import type { WireRequestOptions } from './request.js';

/**
 * An adapter for the OpenAI wire format. Since Waygate's canonical format is OpenAI's, requests pass
 * through: the client's bytes are forwarded untouched when nothing changed them, unknown fields
 * included, and answers and streams are relayed without translation.
 */
export interface OpenAIWireOptions extends WireRequestOptions {
  id: string;
  displayName?: string;
  /** Default base URL, including the version path (e.g. `https://api.openai.com/v1`). Absent: a custom host is required. */
  baseURL?: string;
  /** Endpoints this provider serves; default: chat completions, completions, embeddings and models. */
  endpoints?: readonly Endpoint[];
}

const DEFAULT_ENDPOINTS: readonly Endpoint[] = ['chat.completions', 'completions', 'embeddings', 'models'];

export function createOpenAIWireAdapter(opts: OpenAIWireOptions): ProviderAdapter {
  const endpoints: Partial<Record<Endpoint, EndpointAdapter>> = {};
  for (const name of opts.endpoints ?? DEFAULT_ENDPOINTS) {
    const route = PATHS[name];
    if (!route) throw new Error(`${opts.id}: the OpenAI wire adapter has no endpoint ${name}`);
    endpoints[name] = { build: wireRequest(opts, route) };
  }
  return { id: opts.id, displayName: opts.displayName, baseURL: opts.baseURL, endpoints };
}

/** The OpenAI adapter: chat completions, completions, embeddings and models, with organization and project headers. */
export const openai = createOpenAIWireAdapter({
  id: 'openai',
  displayName: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  headers: openaiHeaders,
});
