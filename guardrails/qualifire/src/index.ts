import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { QualifireCredentialsSchema, createQualifireChecks } from './checks.js';

export * from './checks.js';

/** The namespace: `qualifire.pii`, `qualifire.policy`, ..., as in Portkey. */
export const NAMESPACE = 'qualifire';

export const QualifireOptionsSchema = z.strictObject({ credentials: QualifireCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers Portkey's seven qualifire checks; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: QualifireOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createQualifireChecks(options.credentials));
  },
});
