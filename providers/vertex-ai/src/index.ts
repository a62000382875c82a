import { definePlugin, pluginManifest } from '@waygate/core';
import { createVertexProvider } from './adapter.js';
import { TokenCache } from './auth.js';

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
    // One token cache per gateway, exchanging under the gateway's egress policy.
    api.register.provider(createVertexProvider({ tokenCache: new TokenCache({ fetch: api.egress.fetch }) }));
  },
});
