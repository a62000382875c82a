import { definePlugin, pluginManifest } from '@waygate/core';
import { google } from './google.js';

export {
  google,
  chatCompletions,
  embeddings,
  toGeminiRequest,
  toOpenAIResponse,
  toOpenAIUsage,
  toGeminiEmbedRequest,
  toOpenAIEmbeddings,
  finishReason,
  mapGoogleError,
  modelPath,
  GoogleStreamTransformer,
  GOOGLE_BASE_URL,
} from './google.js';

const manifest = pluginManifest(import.meta.url, 'provider');

export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(google);
  },
});
