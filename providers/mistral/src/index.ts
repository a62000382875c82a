import { definePlugin, pluginManifest } from '@waygate/core';
import { mistral } from './adapter.js';

export { mistral, createMistralProvider, DEFAULT_BASE_URL } from './adapter.js';
export { mistralChatBody, fimForChat, chatFimPrompt, completionPrompt, fimBody } from './request.js';
export { fimToCompletion } from './response.js';
export { FimCompletionStream } from './stream.js';
export { mapMistralError } from './errors.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `mistral-ai` provider adapter. Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(mistral);
  },
});
