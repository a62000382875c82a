import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { AnthropicStreamTransformer, toOpenAIResponse as claudeToOpenAI } from '@waygate/provider-anthropic';
import { GoogleStreamTransformer, mapGoogleError, toOpenAIImages, toOpenAIResponse as geminiToOpenAI } from '@waygate/provider-google';
import { TokenCache } from './auth.js';
import { buildEmbeddings, toOpenAIEmbeddings } from './embeddings.js';
import { buildImages } from './images.js';
import { mapVertexError } from './errors.js';
import { isObj } from './json.js';
import { createMessagesEndpoint } from './messages.js';
import { VERTEX_HOST_TEMPLATE, buildChat, parseModel, prepareRequest } from './request.js';

/**
 * Google Vertex AI behind Waygate's canonical (OpenAI) format. Gemini models are called with
 * `generateContent` / `streamGenerateContent?alt=sse` and translated with the Google adapter's
 * mapping; Claude models (Anthropic on Vertex) with `rawPredict` / `streamRawPredict` and the
 * Anthropic adapter's mapping; text embeddings and Imagen image generations with `predict`. Anthropic's Messages API passes
 * through to Claude models and reaches Gemini models through the gateway's Messages bridge. Auth is
 * an OAuth access token (the target's key) or a service account whose token is minted and cached
 * (see auth.ts).
 */

/** The Vertex AI provider with its own token cache (one per gateway; tests make their own). */
export function createVertexProvider(opts: { tokenCache?: TokenCache } = {}): ProviderAdapter & { tokenCache: TokenCache } {
  const tokenCache = opts.tokenCache ?? new TokenCache();
  /** The step the kernel awaits before build(), shared by every endpoint (see prepareRequest). */
  const prepare = (input: BuildInput): Promise<void> | void => prepareRequest(tokenCache, input);

  const chatCompletions: EndpointAdapter = {
    prepare,
    build: (input) => buildChat(tokenCache, input),
    mapResponse: (json, input) => {
      if (!isObj(json)) return json;
      return parseModel(input.body?.model).publisher === 'anthropic' ? claudeToOpenAI(json) : geminiToOpenAI(json, input.body?.model);
    },
    createStreamTransformer: (input) => {
      const so = input.body?.stream_options;
      const includeUsage = isObj(so) && so.include_usage === true;
      return parseModel(input.body?.model).publisher === 'anthropic'
        ? new AnthropicStreamTransformer(includeUsage)
        : new GoogleStreamTransformer(includeUsage, String(input.body?.model ?? ''));
    },
    mapError: mapVertexError,
  };

  const embeddings: EndpointAdapter = {
    prepare,
    build: (input) => buildEmbeddings(tokenCache, input),
    mapResponse: (json, input) => (isObj(json) ? toOpenAIEmbeddings(json, input.body?.model, input.body?.encoding_format) : json),
    mapError: mapGoogleError,
  };

  const imagesGenerations: EndpointAdapter = {
    prepare,
    build: (input) => buildImages(tokenCache, input),
    mapResponse: (json) => (isObj(json) ? toOpenAIImages(json) : json),
    mapError: mapVertexError,
  };

  const endpoints: ProviderAdapter['endpoints'] = { 'chat.completions': chatCompletions, embeddings, 'images.generations': imagesGenerations };
  endpoints.messages = createMessagesEndpoint(tokenCache, prepare, endpoints);
  return {
    id: 'vertex-ai',
    displayName: 'Google Vertex AI',
    baseURL: VERTEX_HOST_TEMPLATE,
    endpoints,
    tokenCache,
  };
}

/** The Vertex AI provider adapter the plugin registers, with the process-wide token cache. */
export const vertexAI = createVertexProvider();
