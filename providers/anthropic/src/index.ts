import { definePlugin, readPackageInfo } from '@waygate/core';
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

const pkg = readPackageInfo(import.meta.url);

export default definePlugin({
  manifest: {
    name: pkg.name,
    version: pkg.version,
    kind: 'provider',
    core: '^1.0.0',
    description: pkg.description,
  },
  setup(kernel) {
    kernel.providers.register(anthropic);
  },
});
