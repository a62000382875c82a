import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapStabilityError } from './errors.js';
import { STABILITY_BASE_URL, buildImageGeneration } from './request.js';
import { fromStability } from './response.js';

const imagesGenerations: EndpointAdapter = { build: buildImageGeneration, mapResponse: fromStability, mapError: mapStabilityError };

/**
 * The `stability-ai` adapter (Portkey's slug): OpenAI's image generations (`POST /v1/images/generations`)
 * served by Stability AI's v2beta Stable Image API (ultra, core, SD3) or its v1 engines, the answer in
 * OpenAI's images shape. Stability has no chat, completions or embeddings: those are 400 unsupported_endpoint.
 */
export const stabilityAi: ProviderAdapter = {
  id: 'stability-ai',
  displayName: 'Stability AI',
  baseURL: STABILITY_BASE_URL,
  endpoints: { 'images.generations': imagesGenerations },
};
