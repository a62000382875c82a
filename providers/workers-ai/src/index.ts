import { definePlugin, pluginManifest } from '@waygate/core';
import { workersAI } from './adapter.js';

export { workersAI } from './adapter.js';
export { BASE_URL_TEMPLATE, baseOf, runUrl, toWorkersChat, toWorkersPrompt, toWorkersEmbed } from './request.js';
export { fromWorkersChat, fromWorkersCompletion, fromWorkersEmbed, resultOf, usageOf, toolCallOf } from './response.js';
export { mapWorkersAIError, ACCOUNT_LIMITED } from './errors.js';
export { WorkersAIStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `workers-ai` provider adapter (Cloudflare Workers AI's native API). Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(workersAI);
  },
});
