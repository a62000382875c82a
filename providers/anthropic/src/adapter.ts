import type { EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { mapAnthropicError } from './errors.js';
import { isObj } from './json.js';
import { messages, messagesCountTokens } from './messages.js';
import { models } from './models.js';
import { buildRequest } from './request.js';
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

/** The Anthropic provider adapter. */
export const anthropic: ProviderAdapter = {
  id: 'anthropic',
  displayName: 'Anthropic',
  baseURL: 'https://api.anthropic.com/v1',
  endpoints: { 'chat.completions': chatCompletions, messages, 'messages.count_tokens': messagesCountTokens, models },
};
