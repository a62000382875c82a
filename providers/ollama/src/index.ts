import { definePlugin, pluginManifest } from '@waygate/core';
import { ollama } from './adapter.js';

export { ollama } from './adapter.js';
export { rootOf, toOllamaChat, toOllamaGenerate, toOllamaEmbed, toOllamaMessages, optionsOf } from './request.js';
export { fromOllamaChat, fromOllamaGenerate, fromOllamaEmbed, fromOllamaTags, usageOf, finishReason } from './response.js';
export { mapOllamaError } from './errors.js';
export { decodeNDJSON, OllamaStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `ollama` provider adapter (Ollama's native API; a custom host is required). Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(ollama);
  },
});
