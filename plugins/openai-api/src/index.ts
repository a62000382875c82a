import { definePlugin, pluginManifest } from '@waygate/core';
import { OPENAI_ENDPOINTS } from './endpoints.js';
import { setupJsonEndpoints } from './json-endpoints.js';
import { MEDIA_ENDPOINTS } from './media-endpoints.js';

export { OPENAI_STREAM, OPENAI_CHAT_CODEC, OPENAI_COMPLETIONS_CODEC, OPENAI_ENDPOINTS } from './endpoints.js';
export { MODERATIONS_ENDPOINT, checkModerationRequest } from './moderations.js';
export { RERANK_ENDPOINT, rerankUsage } from './rerank.js';
export { MEDIA_ENDPOINTS, MEDIA_ENDPOINT_IDS } from './media-endpoints.js';

/**
 * OpenAI's API, the canonical format inside the kernel, as client-facing endpoints:
 * `POST /v1/chat/completions`, `POST /v1/completions`, `POST /v1/embeddings`, `GET /v1/models`,
 * `POST /v1/moderations`, `POST /v1/rerank` (Cohere's shape), images, audio, files, batches, and any
 * other `/v1/*` path forwarded as it came (`passthrough`).
 * Loaded first among the bundled plugins; the kernel itself serves no endpoint.
 */
export default definePlugin({
  manifest: pluginManifest(import.meta.url, 'endpoint'),
  setup(api) {
    for (const definition of [...OPENAI_ENDPOINTS, ...MEDIA_ENDPOINTS]) api.register.endpoint(definition);
    setupJsonEndpoints(api);
  },
});
