import { definePlugin, pluginManifest } from '@waygate/core';
import { stabilityAi } from './adapter.js';

export { stabilityAi } from './adapter.js';
export {
  STABILITY_BASE_URL,
  DEFAULT_MODEL,
  MAX_V1_SAMPLES,
  buildImageGeneration,
  routeFor,
  parseSize,
  aspectRatioFor,
  v1Body,
  v2Fields,
} from './request.js';
export type { Route } from './request.js';
export { fromStability, fromStabilityV1, fromStabilityV2 } from './response.js';
export { mapStabilityError } from './errors.js';
export { multipartBody } from './multipart.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `stability-ai` provider adapter. Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(stabilityAi);
  },
});
