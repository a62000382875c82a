import type { BuildInput, Endpoint, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { NATIVE_PASSTHROUGH, base64Embedding, nativePassthrough } from '@waygate/provider-kit';
import { FORWARDED_ENDPOINTS, PATHS, forwardRequest, gatewayHeaders, openaiHeaders, wireRequest } from './request.js';
import type { WireRequestOptions } from './request.js';
import { responseItemAdapter } from './responses.js';

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
    if (FORWARDED_ENDPOINTS.includes(name)) {
      endpoints[name] = { build: forwardRequest(opts) };
      continue;
    }
    const route = PATHS[name];
    if (!route) throw new Error(`${opts.id}: the OpenAI wire adapter has no endpoint ${name}`);
    endpoints[name] = { build: wireRequest(opts, route) };
  }
  // Whatever forwards `/v1/*` also serves the native passthrough (`/v1/passthrough/{id}/v1/...`): the path on the API root, the key in its header.
  if (endpoints.passthrough) endpoints[NATIVE_PASSTHROUGH] = nativePassthrough(opts.id, { auth: (input) => gatewayHeaders(opts, input) });
  if (endpoints.embeddings) endpoints.embeddings.mapResponse = base64WhenAsked;
  if (endpoints.responses) endpoints['responses.item'] = responseItemAdapter(opts);
  return { id: opts.id, displayName: opts.displayName, baseURL: opts.baseURL, endpoints };
}

/**
 * Embeddings as the client asked for them: an OpenAI-compatible upstream that ignores
 * `encoding_format: "base64"` (the `openai` SDK's default, which it decodes) answers float arrays;
 * those are encoded. Any other answer is left as it is (and its bytes are relayed untouched).
 */
export function base64WhenAsked(json: unknown, input: BuildInput): unknown {
  const data = (json as { data?: unknown } | null)?.data;
  if (input.body?.encoding_format !== 'base64' || !Array.isArray(data)) return json;
  const floats = (d: unknown): d is { embedding: unknown[] } => Array.isArray((d as { embedding?: unknown } | null)?.embedding);
  if (!data.some(floats)) return json;
  return { ...(json as object), data: data.map((d: unknown) => (floats(d) ? { ...d, embedding: base64Embedding(d.embedding) } : d)) };
}

/**
 * The OpenAI adapter: chat completions, completions, embeddings, models and moderations, and the
 * rest of its API forwarded as it came (images, audio, files, batches, any other `/v1/*` path), with
 * organization and project headers.
 */
export const openai = createOpenAIWireAdapter({
  id: 'openai',
  displayName: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  headers: openaiHeaders,
  endpoints: [...DEFAULT_ENDPOINTS, 'moderations', 'responses', ...FORWARDED_ENDPOINTS],
});
