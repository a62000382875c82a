import { z } from 'zod';
import { definePlugin, pluginManifest } from '@waygate/core';
import type { Endpoint } from '@waygate/core';
import { createOpenAIWireAdapter } from '@waygate/provider-openai';
import { PRESETS } from './presets.js';

export { PRESETS } from './presets.js';
export type { Preset } from './presets.js';

const manifest = pluginManifest(import.meta.url, 'provider');

const ENDPOINTS = ['chat.completions', 'completions', 'embeddings', 'models'] as const;

const optionsSchema = z.strictObject({
  /** Only register these preset slugs (default: all). */
  only: z.array(z.string().min(1)).optional(),
  /** More OpenAI-compatible providers, by slug: `{ "my-llm": { "base_url": "https://llm.example.com/v1" } }`. */
  presets: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a slug of lower-case letters, digits, ".", "_" or "-"'),
      z.strictObject({
        base_url: z.url({ protocol: /^https?$/ }).optional(),
        display_name: z.string().optional(),
        endpoints: z.array(z.enum(ENDPOINTS)).min(1).optional(),
      }),
    )
    .default({}),
});

/** Registers one provider per OpenAI-compatible preset, each under its own slug. */
export default definePlugin({
  manifest,
  configSchema: optionsSchema,
  setup(api, options) {
    const only = options.only ? new Set(options.only) : undefined;
    if (only) {
      for (const slug of only) if (!(slug in PRESETS)) throw new Error(`options.only names unknown preset ${JSON.stringify(slug)}`);
    }
    for (const [id, preset] of Object.entries(PRESETS)) {
      if (only && !only.has(id)) continue;
      api.register.provider(createOpenAIWireAdapter({ id, displayName: preset.displayName, baseURL: preset.baseURL, endpoints: preset.endpoints }));
    }
    for (const [id, p] of Object.entries(options.presets)) {
      api.register.provider(
        createOpenAIWireAdapter({
          id,
          displayName: p.display_name ?? id,
          baseURL: p.base_url?.replace(/\/+$/, ''),
          endpoints: (p.endpoints ?? ENDPOINTS) as readonly Endpoint[],
        }),
      );
    }
  },
});
