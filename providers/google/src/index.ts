import { definePlugin, pluginManifest } from '@waygate/core';
import { google } from './adapter.js';

export { google, chatCompletions, embeddings, models, imagesGenerations } from './adapter.js';
export { toImagenRequest, toOpenAIImages, aspectRatioOf, DEFAULT_IMAGE_MODEL } from './images.js';
export { toOpenAIModelList } from './models.js';
export { toGeminiRequest, modelPath, GOOGLE_BASE_URL } from './request.js';
export { toOpenAIResponse, toOpenAIUsage, finishReason } from './response.js';
export { toGeminiEmbedRequest, toOpenAIEmbeddings } from './embeddings.js';
export { mapGoogleError } from './errors.js';
export { GoogleStreamTransformer } from './stream.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(google);
  },
});
