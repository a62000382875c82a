import { forwardRequest } from '@waygate/provider-openai';
import type { BuildInput, EndpointAdapter, PluginApi, ProviderAdapter, UpstreamRequest } from '@waygate/core';
import { mapReplicateError } from './errors.js';
import { preparedOf, runPrediction } from './prediction.js';
import { headersFor, maxTokensOf } from './request.js';
import { fromPrediction } from './response.js';
import { ReplicateStreamTransformer } from './stream.js';
import { bindUsage, decodeWithUsage } from './usage.js';

/** Replicate's HTTP API, version 1. */
export const DEFAULT_BASE_URL = 'https://api.replicate.com/v1';

const modelOf = (input: BuildInput): string => (typeof input.body?.model === 'string' ? input.body.model : 'replicate');

/** The kernel's call, after prepare() ran the prediction: the finished prediction, or its event stream. */
function buildRead(input: BuildInput): UpstreamRequest {
  const { url } = preparedOf(input);
  if (input.body?.stream !== true) return { url, method: 'GET', headers: headersFor(input) };
  const headers = headersFor(input, 'text/event-stream');
  headers['cache-control'] = 'no-store';
  return { url, method: 'GET', headers };
}

/** Replicate's own API as it came (Portkey's `replicate` is this proxy): the client's `Prefer` kept, the key the target's. */
const forwarded: EndpointAdapter = {
  build: forwardRequest({ headers: (input) => ({ prefer: typeof input.ctx.headers.prefer === 'string' ? input.ctx.headers.prefer : undefined }) }),
  mapError: (status, body, headers) => mapReplicateError(status, body, headers, { relay: true }),
};

/**
 * The `replicate` adapter: chat completions as predictions. prepare() creates the prediction (and,
 * not streamed, waits for it) through the gateway's upstream client; the kernel then reads the result.
 * Replicate's own API (`/v1/predictions`, `/v1/models/...`, `/v1/files`) is forwarded as it came.
 */
export function createReplicateProvider(upstream: Pick<PluginApi['upstream'], 'send'>): ProviderAdapter {
  const chat: EndpointAdapter = {
    prepare: (input) => runPrediction(upstream, input),
    build: buildRead,
    mapResponse: (json, input) => fromPrediction(json, modelOf(input), maxTokensOf(input.body)),
    // decodeStream parses urls.stream's SSE itself, so that it can read the prediction's usage after `done`.
    decodeStream: (body, input) => decodeWithUsage(upstream, body, input),
    createStreamTransformer: (input) => new ReplicateStreamTransformer(modelOf(input), preparedOf(input).prediction, bindUsage(input)),
    mapError: (status, body, headers) => mapReplicateError(status, body, headers),
  };
  // Any other /v1 path (predictions, models, deployments, trainings...) and the files API are forwarded.
  return {
    id: 'replicate',
    displayName: 'Replicate',
    baseURL: DEFAULT_BASE_URL,
    endpoints: { 'chat.completions': chat, files: forwarded, passthrough: forwarded },
  };
}
