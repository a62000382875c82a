import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapOllamaError } from './errors.js';
import { isObj } from './json.js';
import { buildChat, buildEmbed, buildGenerate, buildTags } from './request.js';
import { fromOllamaChat, fromOllamaEmbed, fromOllamaGenerate, fromOllamaTags } from './response.js';
import { decodeNDJSON, OllamaStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'ollama');
const includeUsage = (input: BuildInput): boolean => {
  const so = input.body?.stream_options;
  return isObj(so) && so.include_usage === true;
};

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromOllamaChat(json, modelOf(input)),
  decodeStream: decodeNDJSON,
  createStreamTransformer: (input) => new OllamaStreamTransformer('chat', modelOf(input), includeUsage(input)),
  mapError: mapOllamaError,
};

const completions: EndpointAdapter = {
  build: buildGenerate,
  mapResponse: (json, input) => fromOllamaGenerate(json, modelOf(input)),
  decodeStream: decodeNDJSON,
  createStreamTransformer: (input) => new OllamaStreamTransformer('completion', modelOf(input), includeUsage(input)),
  mapError: mapOllamaError,
};

const embeddings: EndpointAdapter = {
  build: buildEmbed,
  mapResponse: (json, input) => fromOllamaEmbed(json, modelOf(input), input.body?.encoding_format),
  mapError: mapOllamaError,
};

const models: EndpointAdapter = { build: buildTags, mapResponse: (json) => fromOllamaTags(json), mapError: mapOllamaError };

/**
 * The `ollama` adapter: Ollama's native API on a self-hosted server (no default address: a custom
 * host, e.g. `http://localhost:11434`, is required): chat (`/api/chat`), completions
 * (`/api/generate`), embeddings (`/api/embed`) and models (`/api/tags`), NDJSON streams decoded.
 */
export const ollama: ProviderAdapter = {
  id: 'ollama',
  displayName: 'Ollama',
  endpoints: { 'chat.completions': chat, completions, embeddings, models },
};
