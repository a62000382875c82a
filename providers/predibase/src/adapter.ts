import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import type { TgiKind } from '@waygate/provider-tgi';
import { mapPredibaseError } from './errors.js';
import { DEFAULT_BASE_URL, predibaseRequest } from './request.js';
import { fromPredibase } from './response.js';
import { predibaseStream } from './stream.js';

function endpoint(kind: TgiKind): EndpointAdapter {
  return {
    build: (input) => predibaseRequest(input, kind),
    mapResponse: (json, input) => fromPredibase(json, kind, input),
    createStreamTransformer: (input) => predibaseStream(kind, input),
    mapError: mapPredibaseError,
  };
}

/** The `predibase` adapter: chat completions and completions on a deployment's native `/generate` and `/generate_stream`. */
export const predibase: ProviderAdapter = {
  id: 'predibase',
  displayName: 'Predibase',
  baseURL: DEFAULT_BASE_URL,
  endpoints: { 'chat.completions': endpoint('chat'), completions: endpoint('completion') },
};
