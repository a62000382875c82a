import { definePlugin, pluginManifest } from '@waygate/core';
import { vertexAI } from './vertex.js';

export {
  vertexAI,
  createVertexProvider,
  parseModel,
  serviceAccountOf,
  vertexOptions,
  vertexBaseURL,
  vertexURL,
  mapVertexError,
  toVertexEmbedRequest,
  toOpenAIEmbeddings,
  VERTEX_HOST_TEMPLATE,
  VERTEX_ANTHROPIC_VERSION,
  DEFAULT_REGION,
} from './vertex.js';
export type { VertexModel, VertexOptions, Publisher } from './vertex.js';
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
