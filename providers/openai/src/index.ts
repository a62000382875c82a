import { definePlugin, pluginManifest } from '@waygate/core';
import { createOpenAIWireAdapter, targetOption } from './wire.js';

export { createOpenAIWireAdapter, targetOption } from './wire.js';
export type { OpenAIWireOptions } from './wire.js';

/** The OpenAI adapter: chat completions, completions, embeddings and models, with organization and project headers. */
export const openai = createOpenAIWireAdapter({
  id: 'openai',
  displayName: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  headers: (input) => ({
    'openai-organization': targetOption(input, 'openai_organization', 'openai-organization'),
    'openai-project': targetOption(input, 'openai_project', 'openai-project'),
    'openai-beta': targetOption(input, 'openai_beta', 'openai-beta'),
  }),
});

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(openai);
  },
});
