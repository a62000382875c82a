import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PromptSecurityCredentialsSchema, createPromptSecurityChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'promptsecurity';

export const PromptSecurityOptionsSchema = z.strictObject({ credentials: PromptSecurityCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `promptsecurity.protectPrompt`, `promptsecurity.protectResponse`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PromptSecurityOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPromptSecurityChecks(options.credentials));
  },
});
