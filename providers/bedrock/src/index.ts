import { definePlugin, pluginManifest } from '@waygate/core';
import { bedrock } from './bedrock.js';

export {
  bedrock,
  chatCompletions,
  embeddings,
  toConverseRequest,
  toOpenAIResponse,
  toOpenAIUsage,
  finishReason,
  mapBedrockError,
  resolveAuth,
  baseURLFor,
  signedPost,
  targetOption,
  BedrockStreamTransformer,
  DEFAULT_BASE_URL,
  DEFAULT_REGION,
} from './bedrock.js';
export type { BedrockAuth } from './bedrock.js';
export { signV4, signingKey, awsUriEncode, amzDate } from './sigv4.js';
export type { AwsCredentials, SignInput, Signed } from './sigv4.js';
export {
  EventStreamDecoder,
  EventStreamError,
  decodeEventStream,
  encodeMessage,
  encodeEvent,
  encodeException,
  crc32,
  MAX_MESSAGE,
} from './eventstream.js';
export type { EventStreamMessage, HeaderValue } from './eventstream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(bedrock);
  },
});
