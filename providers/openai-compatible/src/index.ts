import { definePlugin, pluginManifest } from '@waygate/core';
import { presetAdapters } from './adapter.js';
import { optionsSchema } from './options.js';

export { PRESETS } from './presets.js';
export type { HostParam, Preset } from './presets.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers one provider per OpenAI-compatible preset, each under its own slug. */
export default definePlugin({
  manifest,
  configSchema: optionsSchema,
  setup(api, options) {
    for (const adapter of presetAdapters(options)) api.register.provider(adapter);
  },
});
