import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import { mapAI21Error } from './errors.js';
import { buildChat, buildComplete, buildEmbed, toAI21Embed } from './request.js';
import { fromAI21Embed, fromJ2Complete, fromJambaChat } from './response.js';
import { JambaStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'ai21');

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromJambaChat(json, modelOf(input)),
  createStreamTransformer(input) {
    const so = input.body?.stream_options;
    return new JambaStreamTransformer(modelOf(input), isObj(so) && so.include_usage === true);
  },
  mapError: mapAI21Error,
};

const completions: EndpointAdapter = {
  build: buildComplete,
  mapResponse: (json, input) => fromJ2Complete(json, modelOf(input)),
  mapError: mapAI21Error,
};

const embeddings: EndpointAdapter = {
  build: buildEmbed,
  mapResponse: (json, input) => fromAI21Embed(json, modelOf(input), toAI21Embed(input.body ?? {}).texts.length, input.body?.encoding_format),
  mapError: mapAI21Error,
};

/** The AI21 Studio adapter: Jamba chat (JSON and streaming, tools), Jurassic-2 completions, embeddings. */
export const ai21: ProviderAdapter = {
  id: 'ai21',
  displayName: 'AI21 Labs',
  baseURL: 'https://api.ai21.com/studio/v1',
  endpoints: { 'chat.completions': chat, completions, embeddings },
};
