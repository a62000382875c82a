import { ErrorCode, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { DEFAULT_IMAGE_MODEL, toImagenRequest } from '@waygate/provider-google';
import type { TokenCache } from './auth.js';
import { googlePredict } from './request.js';

/**
 * OpenAI image generations on Vertex AI's Imagen models: `predict` on the publisher model, with the
 * body Imagen takes on the Gemini API too (the Google adapter's mapping, answers included).
 */
export function buildImages(tokenCache: TokenCache, input: BuildInput): UpstreamRequest {
  const body = input.body;
  if (!body) throw badRequest(ErrorCode.INVALID_REQUEST, 'vertex-ai image generations take a JSON body');
  return googlePredict(tokenCache, input, body.model ?? DEFAULT_IMAGE_MODEL, "image generations are served by Google's Imagen models", () =>
    toImagenRequest(body),
  );
}
