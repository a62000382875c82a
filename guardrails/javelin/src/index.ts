import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { JavelinCredentialsSchema, createJavelinChecks } from './checks.js';

export * from './checks.js';

/** The namespace. */
export const NAMESPACE = 'javelin';

export const JavelinOptionsSchema = z.strictObject({ credentials: JavelinCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers `javelin.guardrails`; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: JavelinOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createJavelinChecks(options.credentials));
  },
});
