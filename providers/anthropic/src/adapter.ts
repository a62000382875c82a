import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { NATIVE_PASSTHROUGH, nativePassthrough } from '@waygate/provider-kit';
import { mapAnthropicError } from './errors.js';
import { isObj } from './json.js';
import { messages, messagesCountTokens } from './messages.js';
import { models } from './models.js';
import { DEFAULT_ANTHROPIC_VERSION, buildRequest, targetOption } from './request.js';
import { toOpenAIResponse } from './response.js';
import { AnthropicStreamTransformer } from './stream.js';

/**
 * Anthropic's Messages API behind Waygate's canonical (OpenAI chat.completions) format: requests are
 * translated to `POST /v1/messages`, answers and event streams back to OpenAI's shapes.
 */

export const chatCompletions: EndpointAdapter = {
  build: buildRequest,
  mapResponse: (json) => (isObj(json) ? toOpenAIResponse(json) : json),
  createStreamTransformer: (input) => {
    const so = input.body?.stream_options;
    return new AnthropicStreamTransformer(isObj(so) && so.include_usage === true);
  },
  mapError: mapAnthropicError,
};

/**
 * The native passthrough (`/v1/passthrough/anthropic/v1/...`): any path of Anthropic's API, the key as
 * `x-api-key`, `anthropic-version` (and `anthropic-beta`) from the client, else the target's, else the default.
 */
export const passthroughNative: EndpointAdapter = nativePassthrough('anthropic', {
  auth: (input) => ({ 'x-api-key': input.target.apiKey }),
  defaults: (input) => ({
    'anthropic-version': targetOption(input, 'anthropic_version', 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
    'anthropic-beta': targetOption(input, 'anthropic_beta', 'anthropic-beta'),
  }),
});

/** The Anthropic provider adapter. */
export const anthropic: ProviderAdapter = {
  id: 'anthropic',
  displayName: 'Anthropic',
  baseURL: 'https://api.anthropic.com/v1',
  endpoints: {
    'chat.completions': chatCompletions,
    messages,
    'messages.count_tokens': messagesCountTokens,
    models,
    [NATIVE_PASSTHROUGH]: passthroughNative,
  },
};
