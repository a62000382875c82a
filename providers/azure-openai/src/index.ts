import { definePlugin, pluginManifest } from '@waygate/core';
import { azureOpenAI } from './azure.js';

export { azureOpenAI, azureOptions, azureURL, AzureStreamTransformer, DEFAULT_API_VERSION, AZURE_HOST_TEMPLATE } from './azure.js';
export type { AzureOptions } from './azure.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(azureOpenAI);
  },
});
