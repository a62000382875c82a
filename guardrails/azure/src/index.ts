import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { AzureCredentialsSchema, createAzureChecks } from './checks.js';

export { AzureCredentialsSchema, contentSafety, createAzureChecks, pii, protectedMaterial, shieldPrompt } from './checks.js';
export type { AzureCredentials, AzureOptions } from './checks.js';

/** The namespace of this package's checks: configs name them `azure.<id>`, as in Portkey. */
export const NAMESPACE = 'azure';

/** Options: the operator's credentials, per service, for configs that carry none. */
export const AzureOptionsSchema = z.strictObject({
  credentials: z.strictObject({ contentSafety: AzureCredentialsSchema.optional(), pii: AzureCredentialsSchema.optional() }).default({}),
});

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers azure.contentSafety, azure.shieldPrompt, azure.protectedMaterial and azure.pii; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: AzureOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createAzureChecks(options.credentials));
  },
});
