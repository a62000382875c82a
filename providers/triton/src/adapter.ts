import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapTritonError } from './errors.js';
import { buildChat, buildCompletion, buildIndex } from './request.js';
import { fromTritonChat, fromTritonCompletion, fromTritonIndex } from './response.js';
import { TritonStreamTransformer } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'triton');

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromTritonChat(json, modelOf(input)),
  createStreamTransformer: (input) => new TritonStreamTransformer('chat', modelOf(input)),
  mapError: mapTritonError,
};

const completions: EndpointAdapter = {
  build: buildCompletion,
  mapResponse: (json, input) => fromTritonCompletion(json, modelOf(input)),
  createStreamTransformer: (input) => new TritonStreamTransformer('completion', modelOf(input)),
  mapError: mapTritonError,
};

const models: EndpointAdapter = { build: buildIndex, mapResponse: (json) => fromTritonIndex(json), mapError: mapTritonError };

/**
 * The `triton` adapter: NVIDIA Triton Inference Server's generate extension on a self-hosted server
 * (a custom host is required): chat completions (messages flattened to a prompt) and completions
 * through `/v2/models/{model}/generate` and `/generate_stream`; models from the repository index.
 */
export const triton: ProviderAdapter = {
  id: 'triton',
  displayName: 'NVIDIA Triton Inference Server',
  endpoints: { 'chat.completions': chat, completions, models },
};
