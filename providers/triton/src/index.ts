import { definePlugin, pluginManifest } from '@waygate/core';
import { triton } from './adapter.js';

export { triton } from './adapter.js';
export { modelUrl, flattenMessages, parametersOf, requestFormat } from './request.js';
export type { RequestFormat } from './request.js';
export { fromTritonChat, fromTritonCompletion, fromTritonIndex, textOutput } from './response.js';
export { mapTritonError } from './errors.js';
export { TritonStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `triton` provider adapter (Triton's generate extension; a custom host is required). Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(triton);
  },
});
