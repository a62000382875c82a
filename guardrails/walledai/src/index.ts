import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { WalledAiCredentialsSchema, createWalledAiChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'walledai';

export const WalledAiOptionsSchema = z.strictObject({ credentials: WalledAiCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `walledai.walledprotect`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: WalledAiOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createWalledAiChecks(options.credentials));
  },
});
