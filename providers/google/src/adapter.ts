import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { NATIVE_PASSTHROUGH, callerHeader, nativePassthrough } from '@waygate/provider-kit';
import { buildEmbeddings, toOpenAIEmbeddings } from './embeddings.js';
import { mapGoogleError } from './errors.js';
import { isObj } from './json.js';
import { GOOGLE_BASE_URL, buildChat } from './request.js';
import { toOpenAIResponse } from './response.js';
import { GoogleStreamTransformer } from './stream.js';
import { buildModels, toOpenAIModelList } from './models.js';
import { buildImages, toOpenAIImages } from './images.js';

/**
 * Google's Gemini API behind Waygate's canonical (OpenAI chat.completions) format: requests are
 * translated to `POST /models/{model}:generateContent` (or `:streamGenerateContent?alt=sse`), answers
 * and event streams back to OpenAI's shapes; embeddings go to `:batchEmbedContents`, image
 * generations to Imagen's `:predict`.
 */

export const chatCompletions: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => (isObj(json) ? toOpenAIResponse(json, input.body?.model) : json),
  createStreamTransformer: (input) => {
    const so = input.body?.stream_options;
    return new GoogleStreamTransformer(isObj(so) && so.include_usage === true, String(input.body?.model ?? ''));
  },
  mapError: mapGoogleError,
};

export const embeddings: EndpointAdapter = {
  build: buildEmbeddings,
  mapResponse: (json, input) => (isObj(json) ? toOpenAIEmbeddings(json, input.body?.model, input.body?.encoding_format) : json),
  mapError: mapGoogleError,
};

export const models: EndpointAdapter = { build: buildModels, mapResponse: toOpenAIModelList, mapError: mapGoogleError };

export const imagesGenerations: EndpointAdapter = {
  build: buildImages,
  mapResponse: (json) => (isObj(json) ? toOpenAIImages(json) : json),
  mapError: mapGoogleError,
};

/**
 * The native passthrough (`/v1/passthrough/google/v1beta/...`): any path of the Gemini API, the key as
 * `x-goog-api-key` (the target's, else the one the caller sent in that header, as Google's SDKs do).
 */
export const passthroughNative: EndpointAdapter = nativePassthrough('google', {
  auth: (input) => ({ 'x-goog-api-key': input.target.apiKey ?? callerHeader(input.ctx, 'x-goog-api-key') }),
});

/** The Google (Gemini API) provider adapter. */
export const google: ProviderAdapter = {
  id: 'google',
  displayName: 'Google Gemini',
  baseURL: GOOGLE_BASE_URL,
  endpoints: { 'chat.completions': chatCompletions, embeddings, models, 'images.generations': imagesGenerations, [NATIVE_PASSTHROUGH]: passthroughNative },
};
