import { definePlugin, pluginManifest } from '@waygate/core';
import { OPENAI_ENDPOINTS } from './endpoints.js';
import { setupJsonEndpoints } from './json-endpoints.js';

export { OPENAI_STREAM, OPENAI_CHAT_CODEC, OPENAI_COMPLETIONS_CODEC, OPENAI_ENDPOINTS } from './endpoints.js';
export { MODERATIONS_ENDPOINT, checkModerationRequest } from './moderations.js';
export { RERANK_ENDPOINT, rerankUsage } from './rerank.js';

/**
 * OpenAI's API, the canonical format inside the kernel, as client-facing endpoints:
 * `POST /v1/chat/completions`, `POST /v1/completions`, `POST /v1/embeddings`, `GET /v1/models`,
 * `POST /v1/moderations`, and `POST /v1/rerank` (Cohere's shape).
 * Loaded first among the bundled plugins; the kernel itself serves no endpoint.
 */
export default definePlugin({
  manifest: pluginManifest(import.meta.url, 'endpoint'),
  setup(api) {
    for (const definition of OPENAI_ENDPOINTS) api.register.endpoint(definition);
    setupJsonEndpoints(api);
  },
});
