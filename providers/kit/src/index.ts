/**
 * @waygate/provider-kit: what provider adapters and format translators share, so each helper is
 * written once: a builder for canonical stream chunks (chat and completions), the skeleton of a
 * transformer for OpenAI-shaped chat chunk streams, usage in OpenAI's field names, a text-only
 * message content's text, base64 embeddings, JSON guards, and rerank in
 * Cohere's shape (the request checked, documents' texts, any provider's ranking as Cohere's answer),
 * the bridge that serves another API through a provider's chat completions adapter, and a stream
 * relay that tells an observer (metrics, logs, traces) of each event and of the end, and the image
 * APIs' nearest aspect ratio to a size.
 * A library, not a plugin: nothing here is loaded from config.
 */
export { ChunkWriter } from './chunks.js';
export type { ChunkObject } from './chunks.js';
export { base64Embedding } from './vectors.js';
export { isObj, str, num, parseObject, parseArguments, nestedDeeper, argumentsTooDeep, MAX_NESTED_JSON_DEPTH } from './json.js';
export type { Json } from './json.js';
export { parseRerankRequest, rerankTexts, toCohereRerank, badAnswer, MAX_RERANK_DOCUMENTS } from './rerank.js';
export type { RerankRequest, Ranked, RerankAnswerParts } from './rerank.js';
export { bridgeThroughChat } from './bridge.js';
export { OpenAIChunkStream } from './chunk-stream.js';
export { openAIUsage } from './usage.js';
export { contentText } from './content.js';
export { watchStream } from './watch.js';
export { nearestAspectRatio } from './images.js';
export type { StreamWatcher } from './watch.js';
export type { ChatTranslation } from './bridge.js';
export {
  NATIVE_PASSTHROUGH,
  NATIVE_PREFIX,
  nativeRoute,
  nativeURL,
  apiRoot,
  forwardedHeaders,
  callerHeader,
  nativePassthrough,
  relayError,
} from './native.js';
export type { NativePassthroughOptions } from './native.js';
