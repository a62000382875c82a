import { definePlugin, pluginManifest } from '@waygate/core';
import type { EndpointAdapter, EndpointDefinition } from '@waygate/core';
import { RESPONSES_STREAM, RESPONSES_CODEC, responseUsage } from './format.js';
import { bridgeToChat } from './bridge.js';

export { RESPONSES_STREAM, RESPONSES_CODEC, responseUsage, usageFromResponses, typeOf, event } from './format.js';
export { toChatRequest, BUILT_IN_TOOLS } from './request.js';
export { toResponse, ResponsesStreamWriter } from './response.js';
export { bridgeToChat } from './bridge.js';

/**
 * OpenAI's `POST /v1/responses`: its typed stream events, codec and usage, OpenAI's error shape (the
 * default), and the bridge to chat.completions for providers without a native Responses endpoint.
 */
export const responsesEndpoint: EndpointDefinition = Object.freeze({
  id: 'responses',
  routes: [{ method: 'POST', path: '/v1/responses' }],
  stream: RESPONSES_STREAM,
  codec: RESPONSES_CODEC,
  usage: responseUsage,
  bridge: { via: 'chat.completions', wrap: (inner: EndpointAdapter) => bridgeToChat(inner) },
}) as EndpointDefinition;

const manifest = pluginManifest(import.meta.url, 'endpoint');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.endpoint(responsesEndpoint);
  },
});
