import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { SydeLabsCredentialsSchema, createSydeLabsChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'sydelabs';

export const SydeLabsOptionsSchema = z.strictObject({ credentials: SydeLabsCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `sydelabs.sydeguard`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: SydeLabsOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createSydeLabsChecks(options.credentials));
  },
});
