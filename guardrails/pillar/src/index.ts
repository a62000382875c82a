import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PillarCredentialsSchema, createPillarChecks } from './checks.js';

export * from './checks.js';

/** The namespace, as in Portkey. */
export const NAMESPACE = 'pillar';

export const PillarOptionsSchema = z.strictObject({ credentials: PillarCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `pillar.scanPrompt`, `pillar.scanResponse`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PillarOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPillarChecks(options.credentials));
  },
});
