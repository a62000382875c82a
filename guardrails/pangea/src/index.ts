import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import { registerChecks } from '@waygate/guardrails';
import { PangeaCredentialsSchema, createPangeaChecks } from './checks.js';

export { BLOCKING_DETECTORS, PangeaCredentialsSchema, createPangeaChecks, pii, textGuard } from './checks.js';

/** The namespace: `pangea.textGuard`, `pangea.pii`, as in Portkey. */
export const NAMESPACE = 'pangea';

export const PangeaOptionsSchema = z.strictObject({ credentials: PangeaCredentialsSchema.optional() });

const manifest = pluginManifest(import.meta.url, 'guardrail');

/** Registers pangea.textGuard and pangea.pii; taps no hooks. */
export default definePlugin({
  manifest,
  configSchema: PangeaOptionsSchema,
  setup(api, options) {
    registerChecks(api, NAMESPACE, createPangeaChecks(options.credentials));
  },
});
