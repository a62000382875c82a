import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { NATIVE_PASSTHROUGH, nativePassthrough } from '@waygate/provider-kit';
import { buildEmbeddings, fromCohereEmbed } from './embeddings.js';
import { mapCohereError } from './errors.js';
import { isObj } from './json.js';
import { buildChat } from './request.js';
import { buildRerank, fromCohereRerank } from './rerank.js';
import { fromCohereChat } from './response.js';
import { CohereStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'cohere');

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromCohereChat(json, modelOf(input)),
  createStreamTransformer(input) {
    const so = input.body?.stream_options;
    return new CohereStreamTransformer(modelOf(input), isObj(so) && so.include_usage === true);
  },
  mapError: mapCohereError,
};

const embeddings: EndpointAdapter = {
  build: buildEmbeddings,
  mapResponse: (json, input) => fromCohereEmbed(json, typeof input.body?.model === 'string' ? input.body.model : 'cohere', input.body?.encoding_format),
  mapError: mapCohereError,
};

const rerank: EndpointAdapter = { build: buildRerank, mapResponse: fromCohereRerank, mapError: mapCohereError };

/** The native passthrough (`/v1/passthrough/cohere/v2/...`, `/v1/...`): any path of Cohere's API, the key as `Authorization: Bearer`. */
export const passthroughNative: EndpointAdapter = nativePassthrough('cohere', {
  auth: (input) => ({ authorization: input.target.apiKey ? `Bearer ${input.target.apiKey}` : undefined }),
});

/** The Cohere v2 adapter: chat (JSON and streaming, tools), embed and rerank, translated both ways. */
export const cohere: ProviderAdapter = {
  id: 'cohere',
  displayName: 'Cohere',
  baseURL: 'https://api.cohere.com/v2',
  endpoints: { 'chat.completions': chat, embeddings, rerank, [NATIVE_PASSTHROUGH]: passthroughNative },
};
