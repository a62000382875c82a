import { definePlugin, pluginManifest } from '@waygate/core';
import { bedrock } from './adapter.js';

export { bedrock, chatCompletions, embeddings, rerank, models, imagesGenerations } from './adapter.js';
export {
  buildImageGeneration,
  fromBedrockImages,
  fromAmazonImages,
  fromStabilityImages,
  toAmazonImageRequest,
  toStabilityImageRequest,
  imageFamily,
  titanSize,
  novaSizeProblem,
  amazonQuality,
  TITAN_SIZES,
  NOVA_SIZE,
  NOVA_STYLES,
  STABILITY_ASPECT_RATIOS,
  MAX_IMAGES,
} from './images.js';
export type { ImageFamily } from './images.js';
export { controlPlaneURL, toOpenAIModelList } from './models.js';
export { toConverseRequest, resolveAuth, baseURLFor, signedPost, signedPostTo, targetOption, DEFAULT_BASE_URL, DEFAULT_REGION } from './request.js';
export type { BedrockAuth, AuthPolicy } from './request.js';
export { toOpenAIResponse, toOpenAIUsage, finishReason } from './response.js';
export { mapBedrockError, awsErrorType } from './errors.js';
export { toBedrockRerank, fromBedrockRerank, rerankModelArn, agentRuntimeURL, MAX_SOURCES } from './rerank.js';
export { BedrockStreamTransformer } from './stream.js';
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
