import { definePlugin, pluginManifest } from '@waygate/core';
import { vertexAI } from './adapter.js';

export { vertexAI, createVertexProvider } from './adapter.js';
export {
  parseModel,
  serviceAccountOf,
  vertexOptions,
  vertexBaseURL,
  vertexURL,
  VERTEX_HOST_TEMPLATE,
  VERTEX_ANTHROPIC_VERSION,
  DEFAULT_REGION,
} from './request.js';
export type { VertexModel, VertexOptions, Publisher } from './request.js';
export { mapVertexError } from './errors.js';
export { toVertexEmbedRequest, toOpenAIEmbeddings } from './embeddings.js';
export {
  TokenCache,
  parseServiceAccount,
  signServiceAccountJwt,
  DEFAULT_TOKEN_URI,
  CLOUD_PLATFORM_SCOPE,
  JWT_BEARER_GRANT,
  JWT_LIFETIME_SECONDS,
} from './auth.js';
export type { ServiceAccount, TokenCacheOptions } from './auth.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(vertexAI);
  },
});
