import { definePlugin, pluginManifest } from '@waygate/core';
import { azureOpenAI } from './adapter.js';

export { azureOpenAI } from './adapter.js';
export { azureOptions, azureURL, DEFAULT_API_VERSION, AZURE_HOST_TEMPLATE } from './request.js';
export type { AzureOptions } from './request.js';
export { AzureStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(azureOpenAI);
  },
});
