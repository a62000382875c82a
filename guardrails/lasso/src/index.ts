import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { LassoCredentialsSchema, createLassoChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'lasso';

export const LassoOptionsSchema = z.strictObject({ credentials: LassoCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `lasso.classify`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: LassoOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createLassoChecks(options.credentials));
  },
});
