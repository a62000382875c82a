import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { AporiaCredentialsSchema, createAporiaChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'aporia';

export const AporiaOptionsSchema = z.strictObject({ credentials: AporiaCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `aporia.validateProject`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: AporiaOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createAporiaChecks(options.credentials));
  },
});
