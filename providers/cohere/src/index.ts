import { definePlugin, pluginManifest } from '@waygate/core';
import { cohere } from './adapter.js';

export { cohere } from './adapter.js';
export { toCohereChat } from './request.js';
export { fromCohereChat, mapFinishReason, FINISH_REASONS } from './response.js';
export { toCohereEmbed, fromCohereEmbed } from './embeddings.js';
export { mapCohereError } from './errors.js';
export { toCohereRerankBody, buildRerank, fromCohereRerank } from './rerank.js';
export { CohereStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(cohere);
  },
});
