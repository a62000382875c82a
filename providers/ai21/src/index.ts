import { definePlugin, pluginManifest } from '@waygate/core';
import { ai21 } from './adapter.js';

export { ai21 } from './adapter.js';
export { toJambaChat, toJ2Complete, toAI21Embed, j2Model, buildChat, buildComplete, buildEmbed } from './request.js';
export { fromJambaChat, fromJ2Complete, fromAI21Embed, finishReason, usageOf } from './response.js';
export { mapAI21Error } from './errors.js';
export { JambaStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(ai21);
  },
});
