import { definePlugin, pluginManifest } from '@waygate/core';
import { openai } from './adapter.js';

export { openai, createOpenAIWireAdapter } from './adapter.js';
export type { OpenAIWireOptions } from './adapter.js';
export { targetOption, FORWARDED_ENDPOINTS, forwardRequest, versionlessPath } from './request.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(openai);
  },
});
