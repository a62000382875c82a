import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { BedrockCredentialsSchema, createBedrockChecks } from './checks.js';

export { BedrockCredentialsSchema, createBedrockChecks, guard } from './checks.js';
export type { BedrockCredentials, BedrockOptions } from './checks.js';

/** The namespace of this package's checks: `bedrock.guard`, as in Portkey. */
export const NAMESPACE = 'bedrock';

/** Options: the operator's AWS credentials, for configs that carry none. */
export const BedrockOptionsSchema = z.strictObject({ credentials: BedrockCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers bedrock.guard; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: BedrockOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createBedrockChecks({ credentials: options.credentials }));
  },
});
