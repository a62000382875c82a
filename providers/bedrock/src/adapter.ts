import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { buildEmbeddings, mapEmbeddings } from './embeddings.js';
import { mapBedrockError } from './errors.js';
import { decodeEventStream } from './eventstream.js';
import { buildImageGeneration, fromBedrockImages } from './images.js';
import { isObj } from './json.js';
import { DEFAULT_BASE_URL, buildChat } from './request.js';
import { buildRerank, fromBedrockRerank } from './rerank.js';
import { toOpenAIResponse } from './response.js';
import { BedrockStreamTransformer } from './stream.js';
import { buildModels, toOpenAIModelList } from './models.js';

/**
 * Amazon Bedrock Runtime behind Waygate's canonical (OpenAI) format: chat completions through the
 * Converse API (`POST /model/{modelId}/converse` and `/converse-stream`), embeddings through
 * `InvokeModel` (Titan text and Cohere embeddings), and rerank (Cohere's shape) through Agent
 * Runtime's `Rerank` (`POST /rerank` on `bedrock-agent-runtime.{region}`), and image generations through
 * `InvokeModel` (Titan Image Generator, Nova Canvas, the Stability models). Requests are signed with
 * SigV4 (or sent with a Bedrock API key as a Bearer token); streams arrive in AWS's binary
 * event-stream framing.
 */

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => (isObj(json) ? toOpenAIResponse(json, input) : json),
  decodeStream: decodeEventStream,
  createStreamTransformer: (input) => new BedrockStreamTransformer(input),
  mapError: mapBedrockError,
};

export const embeddings: EndpointAdapter = {
  build: buildEmbeddings,
  mapResponse: mapEmbeddings,
  mapError: mapBedrockError,
};

export const rerank: EndpointAdapter = {
  build: buildRerank,
  mapResponse: fromBedrockRerank,
  mapError: mapBedrockError,
};

export const imagesGenerations: EndpointAdapter = {
  build: buildImageGeneration,
  mapResponse: fromBedrockImages,
  mapError: mapBedrockError,
};

export const models: EndpointAdapter = { build: buildModels, mapResponse: toOpenAIModelList, mapError: mapBedrockError };

/** The Bedrock provider adapter. */
export const bedrock: ProviderAdapter = {
  id: 'bedrock',
  displayName: 'Amazon Bedrock',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings, rerank, models, 'images.generations': imagesGenerations },
};
