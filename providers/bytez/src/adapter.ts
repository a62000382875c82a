import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapBytezError } from './errors.js';
import { buildChat } from './request.js';
import { fromBytezChat } from './response.js';
import { BytezStreamTransformer, decodeBytezStream } from './stream.js';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'bytez');

const chat: EndpointAdapter = {
  build: buildChat,
  mapResponse: (json, input) => fromBytezChat(json, modelOf(input), input.ctx.id),
  decodeStream: decodeBytezStream,
  createStreamTransformer: (input) => new BytezStreamTransformer(modelOf(input), input.ctx.id),
  mapError: mapBytezError,
};

/** The Bytez adapter: chat completions (JSON and streaming) against Bytez's models/v2 API. */
export const bytez: ProviderAdapter = {
  id: 'bytez',
  displayName: 'Bytez',
  baseURL: 'https://api.bytez.com/models/v2',
  endpoints: { 'chat.completions': chat },
};
