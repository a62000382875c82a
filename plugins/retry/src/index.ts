import { z } from 'zod';
import { definePlugin, pluginManifest, AfterResponseStage, OnErrorStage } from '@waygate/core';
import { createRetryPolicy, DEFAULT_OPTIONS } from './policy.js';

export {
  createRetryPolicy,
  parseRetryAfter,
  backoffDelay,
  isRetryableFailure,
  DEFAULT_RETRY_STATUS_CODES,
  CONNECTION_ERROR_CODES,
  DEFAULT_OPTIONS,
} from './policy.js';
export type { RetryOptions, RetryPolicyDeps, RetryContext } from './policy.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`). */
export const RetryOptionsSchema = z.strictObject({
  /** Upper bound on a config's `retry.attempts`. Portkey documents 5 (and never enforces it). */
  maxAttempts: z.number().int().min(0).max(20).default(DEFAULT_OPTIONS.maxAttempts),
  baseDelayMs: z.number().min(0).default(DEFAULT_OPTIONS.baseDelayMs),
  maxDelayMs: z.number().min(0).default(DEFAULT_OPTIONS.maxDelayMs),
  maxRetryAfterMs: z.number().min(0).default(DEFAULT_OPTIONS.maxRetryAfterMs),
});

const manifest = pluginManifest(import.meta.url, 'policy');

export default definePlugin({
  manifest,
  configSchema: RetryOptionsSchema,
  setup(api, options) {
    const decide = createRetryPolicy(options);
    api.hooks.onError.tap(OnErrorStage.RETRY, (err, ctx) => decide(err, ctx));
    // A target that answered after an earlier one ran out of retries (a fallback) is the final word:
    // the answer did not come from exhausted retries.
    api.hooks.afterResponse.tap(AfterResponseStage.USAGE, (res, ctx) => {
      if (ctx.retriesExhausted && res.source === 'upstream' && res.status < 400) ctx.markRetriesExhausted(false);
      return res;
    });
  },
});
