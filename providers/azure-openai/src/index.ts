import { definePlugin, readPackageInfo } from '@waygate/core';
import { azureOpenAI } from './azure.js';

export { azureOpenAI, azureOptions, azureURL, AzureStreamTransformer, DEFAULT_API_VERSION, AZURE_HOST_TEMPLATE } from './azure.js';
export type { AzureOptions } from './azure.js';

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
    kernel.providers.register(azureOpenAI);
  },
});
