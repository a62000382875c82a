import { definePlugin, readPackageInfo } from '@waygate/core';
import { cohere } from './cohere.js';

export {
  cohere,
  toCohereChat,
  fromCohereChat,
  toCohereEmbed,
  fromCohereEmbed,
  mapCohereError,
  mapFinishReason,
  CohereStreamTransformer,
  FINISH_REASONS,
} from './cohere.js';

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
    kernel.providers.register(cohere);
  },
});
