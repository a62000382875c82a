import { definePlugin, pluginManifest } from '@waygate/core';
import { predibase } from './adapter.js';

export { predibase } from './adapter.js';
export { DEFAULT_BASE_URL, predibaseRoute, deploymentUrl, adapterParameters, predibaseRequest } from './request.js';
export type { PredibaseRoute } from './request.js';
export { fromPredibase, answerModel } from './response.js';
export { predibaseStream } from './stream.js';
export { mapPredibaseError } from './errors.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `predibase` provider adapter (Predibase's native LoRAX API, on TGI's mapping). Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(predibase);
  },
});
