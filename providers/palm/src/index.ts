import { definePlugin, pluginManifest } from '@waygate/core';
import { palm } from './adapter.js';

export { palm } from './adapter.js';
export { toPalmMessage, toPalmText, embeddingTexts, modelPath, buildMessage, buildText, buildEmbed } from './request.js';
export { fromPalmMessage, fromPalmText, fromPalmEmbed } from './response.js';
export { mapPalmError } from './errors.js';
export { PalmChatStream, PalmTextStream, decodeWholeAnswer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(palm);
  },
});
