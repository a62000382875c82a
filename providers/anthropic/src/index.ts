import { definePlugin, pluginManifest } from '@waygate/core';
import { anthropic } from './adapter.js';

export { anthropic, chatCompletions } from './adapter.js';
export { toAnthropicRequest, targetOption, DEFAULT_ANTHROPIC_VERSION, DEFAULT_MAX_TOKENS } from './request.js';
export { toOpenAIResponse, toOpenAIUsage, finishReason } from './response.js';
export { mapAnthropicError } from './errors.js';
export { AnthropicStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(anthropic);
  },
});
