import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PatronusCredentialsSchema, createPatronusChecks } from './checks.js';

export { JUDGE_CRITERIA, PatronusCredentialsSchema, createPatronusChecks, custom, maskSpans, spansOf } from './checks.js';

/** The namespace: `patronus.pii`, `patronus.isConcise`, ..., as in Portkey. */
export const NAMESPACE = 'patronus';

export const PatronusOptionsSchema = z.strictObject({ credentials: PatronusCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers Portkey's twelve patronus checks; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PatronusOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPatronusChecks(options.credentials));
  },
});
