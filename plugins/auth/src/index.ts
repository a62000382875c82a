import { z } from 'zod';
import { AfterResponseStage, definePlugin, pluginManifest } from '@waygate/core';

/** Headers the gateway writes itself (its own and Portkey's namespaces, the body's framing): never a plugin's. */
const RESERVED = /^(x-waygate-|x-portkey-|content-)|^(transfer-encoding|connection|keep-alive)$/;

/** The plugin's options (the `options` of its entry in the config file's `plugins`), parsed once at start-up. */
export const OptionsSchema = z.strictObject({
  /** The response header to add: a lower-case HTTP header name. */
  header: z
    .string()
    .regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a lower-case HTTP header name')
    .refine((h) => !RESERVED.test(h), 'is a header the gateway writes itself')
    .default('x-auth'),
  /** Its value: printable ASCII, no line breaks. */
  value: z
    .string()
    .max(1024)
    .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII')
    .default('1'),
});

export type Options = z.output<typeof OptionsSchema>;

// The kind: 'policy' for a cross-cutting policy; 'strategy', 'cache', 'endpoint' or 'observability' when it is one of those.
const manifest = pluginManifest(import.meta.url, 'policy');

/**
 * Adds one response header, from its options, to every answer. The tap is made once, in setup(),
 * at `AfterResponseStage.NORMAL`: after output guardrails and the cache store, before usage and logs.
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  setup(api, options) {
    const { header, value } = options;
    api.hooks.afterResponse.tap(AfterResponseStage.NORMAL, (response, ctx) => {
      ctx.responseHeaders[header] = value;
      return response;
    });
  },
});
