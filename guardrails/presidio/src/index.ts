import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PresidioCredentialsSchema, createPresidioChecks } from './checks.js';

export * from './checks.js';

/** The namespace. */
export const NAMESPACE = 'presidio';

export const PresidioOptionsSchema = z.strictObject({ credentials: PresidioCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `presidio.analyze`, `presidio.redact`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PresidioOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPresidioChecks(options.credentials));
  },
});
