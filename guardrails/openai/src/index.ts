import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { OpenAICredentialsSchema, createOpenAIChecks } from './checks.js';

export { OPENAI_CATEGORIES, OpenAICredentialsSchema, createOpenAIChecks, moderation } from './checks.js';
export type { OpenAICredentials } from './checks.js';

/** The namespace: `openai.moderation`. */
export const NAMESPACE = 'openai';

export const OpenAIOptionsSchema = z.strictObject({ credentials: OpenAICredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers openai.moderation; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: OpenAIOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createOpenAIChecks(options.credentials));
  },
});
