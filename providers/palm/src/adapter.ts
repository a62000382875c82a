import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapPalmError } from './errors.js';
import { buildEmbed, buildMessage, buildText, embeddingTexts } from './request.js';
import { fromPalmEmbed, fromPalmMessage, fromPalmText } from './response.js';
import { decodeWholeAnswer, PalmChatStream, PalmTextStream } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'palm');

const chat: EndpointAdapter = {
  build: buildMessage,
  mapResponse: (json, input) => fromPalmMessage(json, modelOf(input), input.ctx.id),
  decodeStream: decodeWholeAnswer,
  createStreamTransformer: (input) => new PalmChatStream(modelOf(input), input.ctx.id),
  mapError: mapPalmError,
};

const completions: EndpointAdapter = {
  build: buildText,
  mapResponse: (json, input) => fromPalmText(json, modelOf(input), input.ctx.id),
  decodeStream: decodeWholeAnswer,
  createStreamTransformer: (input) => new PalmTextStream(modelOf(input), input.ctx.id),
  mapError: mapPalmError,
};

const embeddings: EndpointAdapter = {
  build: buildEmbed,
  mapResponse: (json, input) => fromPalmEmbed(json, modelOf(input), embeddingTexts(input.body ?? {}).length, input.body?.encoding_format),
  mapError: mapPalmError,
};

/**
 * The PaLM adapter: chat (generateMessage), completions (generateText) and embeddings (embedText,
 * batchEmbedText) against Google's PaLM API. Google has retired the service; the adapter speaks its
 * documented format, for deployments that still serve it.
 */
export const palm: ProviderAdapter = {
  id: 'palm',
  displayName: 'Google PaLM',
  baseURL: 'https://generativelanguage.googleapis.com/v1beta3',
  endpoints: { 'chat.completions': chat, completions, embeddings },
};
