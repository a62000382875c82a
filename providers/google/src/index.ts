import { definePlugin, readPackageInfo } from '@waygate/core';
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
    kernel.providers.register(google);
  },
});
