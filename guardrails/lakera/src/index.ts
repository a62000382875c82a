import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { LakeraCredentialsSchema, createLakeraChecks } from './checks.js';

export { LakeraCredentialsSchema, createLakeraChecks, guard } from './checks.js';
export type { LakeraCredentials } from './checks.js';

/** The namespace: `lakera.guard`. */
export const NAMESPACE = 'lakera';

export const LakeraOptionsSchema = z.strictObject({ credentials: LakeraCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers lakera.guard; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: LakeraOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createLakeraChecks(options.credentials));
  },
});
