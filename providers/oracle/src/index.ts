import { definePlugin, pluginManifest } from '@waygate/core';
import { oracle } from './adapter.js';

export { oracle, chatCompletions, embeddings } from './adapter.js';
export {
  toGenericChatRequest,
  toCohereChatRequest,
  toChatDetails,
  apiFormatOf,
  resolveTarget,
  resolveCredentials,
  servingModeOf,
  targetOption,
  signedAction,
  DEFAULT_BASE_URL,
  DEFAULT_API_VERSION,
} from './request.js';
export type { ApiFormat, OracleTarget } from './request.js';
export { toOpenAIResponse, toOpenAIUsage, finishReason } from './response.js';
export { toEmbedText, mapEmbeddings } from './embeddings.js';
export { mapOracleError, isRetryableOci } from './errors.js';
export { OracleStreamTransformer } from './stream.js';
export { signRequest, signingString, contentSha256, keyIdOf, privateKeyOf, normalizePem, SIGNED_HEADERS, BODY_SIGNED_HEADERS } from './signer.js';
export type { OciCredentials, SignInput } from './signer.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(oracle);
  },
});
