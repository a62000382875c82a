import { definePlugin, readPackageInfo } from '@waygate/core';
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

const pkg = readPackageInfo(import.meta.url);

export default definePlugin({
  manifest: {
    name: pkg.name,
    version: pkg.version,
    kind: 'provider',
    core: '^1.0.0',
    description: pkg.description,
  },
  setup(kernel) {
    kernel.providers.register(bedrock);
  },
});
