import { definePlugin, pluginManifest } from '@waygate/core';
import { anthropic } from './anthropic.js';

export {
  anthropic,
  chatCompletions,
  toAnthropicRequest,
  toOpenAIResponse,
  toOpenAIUsage,
  finishReason,
  mapAnthropicError,
  targetOption,
  AnthropicStreamTransformer,
  DEFAULT_ANTHROPIC_VERSION,
  DEFAULT_MAX_TOKENS,
} from './anthropic.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(anthropic);
  },
});
