import { definePlugin, pluginManifest } from '@waygate/core';
import { sagemaker } from './adapter.js';

export { sagemaker, chatCompletions, completions, embeddings } from './adapter.js';
export {
  buildChat,
  buildCompletion,
  buildEmbeddings,
  tgiBody,
  sageMakerFormat,
  FORMAT_OPTION,
  buildInvoke,
  endpointName,
  sageMakerHeaders,
  baseURLFor,
  DEFAULT_BASE_URL,
  HEADER_OPTIONS,
  ENDPOINT_OPTION,
} from './request.js';
export { decodeSageMakerStream, payloadBytes, OpenAIStreamRelay } from './stream.js';
export type { SageMakerFormat } from './request.js';
export { mapSageMakerError, redactAws } from './errors.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `sagemaker` provider adapter. Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(sagemaker);
  },
});
