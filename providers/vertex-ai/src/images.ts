import { ErrorCode, GatewayError, badRequest } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { DEFAULT_IMAGE_MODEL, toImagenRequest } from '@waygate/provider-google';
import type { TokenCache } from './auth.js';
import { authHeaders, optionsOf, parseModel, vertexURL } from './request.js';

/**
 * OpenAI image generations on Vertex AI's Imagen models: `predict` on the publisher model, with the
 * body Imagen takes on the Gemini API too (the Google adapter's mapping, answers included).
 */
export function buildImages(tokenCache: TokenCache, input: BuildInput): UpstreamRequest {
  const body = input.body;
  if (!body) throw badRequest(ErrorCode.INVALID_REQUEST, 'vertex-ai image generations take a JSON body');
  const m = parseModel(body.model ?? DEFAULT_IMAGE_MODEL);
  if (m.publisher !== 'google') {
    throw new GatewayError(
      ErrorCode.UNSUPPORTED_ENDPOINT,
      400,
      `vertex-ai: ${m.model} is a Claude model; image generations are served by Google's Imagen models`,
      {
        param: 'model',
      },
    );
  }
  const o = optionsOf(input);
  return {
    url: vertexURL(input, o, m, 'predict'),
    method: 'POST',
    headers: authHeaders(tokenCache, input, o),
    body: JSON.stringify(toImagenRequest(body)),
  };
}
