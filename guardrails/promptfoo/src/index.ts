import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PromptfooCredentialsSchema, createPromptfooChecks } from './checks.js';

export { PROMPTFOO_BASE_URL, PromptfooCredentialsSchema, createPromptfooChecks, guard, harm, mask, pii } from './checks.js';

/** The namespace: `promptfoo.guard`, `promptfoo.pii`, `promptfoo.harm`, as in Portkey. */
export const NAMESPACE = 'promptfoo';

/** `credentials.baseURL`: the deployment every check calls unless its config names one. */
export const PromptfooOptionsSchema = z.strictObject({ credentials: PromptfooCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers promptfoo.guard, promptfoo.pii and promptfoo.harm; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PromptfooOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPromptfooChecks(options.credentials));
  },
});
