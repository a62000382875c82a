import type { BuildInput, EndpointAdapter, ProviderAdapter, StreamTransformer } from '@waygate/core';
import type { Json } from '@waygate/provider-kit';
import { mapPalmError } from './errors.js';
import { buildEmbed, buildMessage, buildText, embeddingTexts } from './request.js';
import { fromPalmEmbed, fromPalmMessage, fromPalmText } from './response.js';
import { decodeWholeAnswer, PalmChatStream, PalmTextStream } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'palm');

/** A generate method's endpoint: the JSON answer mapped, and a stream that is that answer whole, as chunks. */
function generate(
  build: EndpointAdapter['build'],
  answer: (json: unknown, model: string, id: string) => Json,
  Stream: new (model: string, id: string) => StreamTransformer,
): EndpointAdapter {
  return {
    build,
    mapResponse: (json, input) => answer(json, modelOf(input), input.ctx.id),
    decodeStream: decodeWholeAnswer,
    createStreamTransformer: (input) => new Stream(modelOf(input), input.ctx.id),
    mapError: mapPalmError,
  };
}

const chat = generate(buildMessage, fromPalmMessage, PalmChatStream);
const completions = generate(buildText, fromPalmText, PalmTextStream);

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
