import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { MistralCredentialsSchema, createMistralChecks } from './checks.js';

export { MISTRAL_CATEGORIES, MistralCredentialsSchema, createMistralChecks, moderateContent } from './checks.js';

/** The namespace: `mistral.moderateContent`, as in Portkey. */
export const NAMESPACE = 'mistral';

export const MistralOptionsSchema = z.strictObject({ credentials: MistralCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers mistral.moderateContent; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: MistralOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createMistralChecks(options.credentials));
  },
});
