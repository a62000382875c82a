import { definePlugin, pluginManifest } from '@waygate/core';
import { createReplicateProvider } from './adapter.js';

export { createReplicateProvider, DEFAULT_BASE_URL } from './adapter.js';
export { predictionTarget, renderConversation, toReplicateInput, createPrediction } from './request.js';
export { fromPrediction, outputText, usageOf } from './response.js';
export { mapReplicateError, predictionFailed } from './errors.js';
export {
  runPrediction,
  pollUntilDone,
  retryAfterMs,
  trustedUrl,
  waitBudget,
  POLL_FIRST_MS,
  POLL_MAX_MS,
  RETRY_AFTER_MAX_MS,
  MAX_WAIT_MS,
} from './prediction.js';
export { ReplicateStreamTransformer } from './stream.js';
export { decodeWithUsage, bindUsage, finalUsage, USAGE_WAIT_MS } from './usage.js';
export type { UsageSlot } from './usage.js';

const manifest = pluginManifest(import.meta.url, 'provider');

/** Registers the `replicate` provider adapter, whose prepare() calls Replicate through the gateway's upstream client. Taps no hooks. */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.provider(createReplicateProvider(api.upstream));
  },
});
