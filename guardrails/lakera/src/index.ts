import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { ApiKeyCredentialsSchema } from '@waygate/guardrail-vendor-kit';
import { createLakeraChecks } from './checks.js';

export { createLakeraChecks, guard } from './checks.js';

/** The namespace: `lakera.guard`. */
export const NAMESPACE = 'lakera';

export const LakeraOptionsSchema = z.strictObject({ credentials: ApiKeyCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers lakera.guard; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: LakeraOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createLakeraChecks(options.credentials));
  },
});
