import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { AcuvityCredentialsSchema, createAcuvityChecks } from './checks.js';

export * from './checks.js';

/** The namespace: `acuvity.scan`, as in Portkey. */
export const NAMESPACE = 'acuvity';

export const AcuvityOptionsSchema = z.strictObject({ credentials: AcuvityCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers acuvity.scan; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: AcuvityOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createAcuvityChecks(options.credentials));
  },
});
