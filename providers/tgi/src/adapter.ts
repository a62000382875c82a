import { forwardRequest } from '@waygate/provider-openai';
import type { BuildInput, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { isObj } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { mapTgiError } from './errors.js';
import { generateRequest } from './request.js';
import type { TgiKind } from './request.js';
import { fromGenerate, modelOf, promptTokensHeader } from './response.js';
import { TgiStreamTransformer } from './stream.js';

/** How a service built on TGI's API (Predibase, LoRAX) calls it. */
export interface TgiEndpointOptions {
  /** The slug, named in errors and in answers without a model. */
  provider: string;
  /** The URL `/generate` is appended to, for this request's target. Default: the target's base URL (its custom host). */
  base?: (input: BuildInput) => string;
  /** Generation parameters of the service's own (an adapter id), under the request's own `parameters`. */
  parameters?: (input: BuildInput) => Json | undefined;
}

/** One OpenAI API (chat or completions) served by TGI's `/generate` and `/generate_stream`. */
export function tgiEndpoint(kind: TgiKind, opts: TgiEndpointOptions): EndpointAdapter {
  const { provider } = opts;
  const base = opts.base ?? ((input: BuildInput) => input.target.baseURL ?? '');
  return {
    build: (input) => generateRequest(input, kind, base(input), provider, opts.parameters?.(input)),
    mapResponse: (json, input, headers) => fromGenerate(json, kind, modelOf(input.body, provider), provider, promptTokensHeader(headers)),
    createStreamTransformer: (input) => {
      const so = input.body?.stream_options;
      return new TgiStreamTransformer(kind, modelOf(input.body, provider), isObj(so) && so.include_usage === true, provider);
    },
    mapError: (status, body, headers) => mapTgiError(status, body, headers, provider),
  };
}

/** TGI's other routes (`/info`, `/tokenize`, `/health`, `/metrics`...) as the client sent them (`/v1/info` → `{base}/info`), with the target's key. */
const forwarded: EndpointAdapter = { build: forwardRequest({}) };

/**
 * The `tgi` adapter: a self-hosted Text Generation Inference server (or a Hugging Face Inference
 * Endpoint running it), reached at its custom host. OpenAI chat completions and completions go to its
 * native `/generate` and `/generate_stream`; any other path is forwarded.
 */
export const tgi: ProviderAdapter = {
  id: 'tgi',
  displayName: 'Hugging Face Text Generation Inference',
  endpoints: {
    'chat.completions': tgiEndpoint('chat', { provider: 'tgi' }),
    completions: tgiEndpoint('completion', { provider: 'tgi' }),
    passthrough: forwarded,
  },
};
