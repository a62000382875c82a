import { definePlugin, pluginManifest } from '@waygate/core';
import { tgi } from './adapter.js';

export { tgi, tgiEndpoint } from './adapter.js';
export type { TgiEndpointOptions } from './adapter.js';
export { chatPrompt, completionPrompt, generateParameters, generateBody, generateRequest, tgiHeaders } from './request.js';
export type { TgiKind } from './request.js';
export { fromGenerate, finishReason, usageOf, modelOf } from './response.js';
export { mapTgiError, streamError } from './errors.js';
export { TgiStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `tgi` provider adapter (Hugging Face Text Generation Inference's native API). Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(tgi);
  },
});
