import { definePlugin, pluginManifest } from '@waygate/core';
import { bytez } from './adapter.js';

export { bytez } from './adapter.js';
export { toBytezChat, buildChat, modelPath } from './request.js';
export { fromBytezChat, outputText } from './response.js';
export { mapBytezError } from './errors.js';
export { BytezStreamTransformer, decodeBytezStream } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(bytez);
  },
});
