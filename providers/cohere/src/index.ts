import { definePlugin, pluginManifest } from '@waygate/core';
import { cohere } from './cohere.js';

export {
  cohere,
  toCohereChat,
  fromCohereChat,
  toCohereEmbed,
  fromCohereEmbed,
  mapCohereError,
  mapFinishReason,
  CohereStreamTransformer,
  FINISH_REASONS,
} from './cohere.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(cohere);
  },
});
