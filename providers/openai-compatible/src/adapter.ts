import type { Endpoint, ProviderAdapter } from '@waygate/core';
import { createOpenAIWireAdapter } from '@waygate/provider-openai';
import { ENDPOINTS } from './options.js';
import type { OpenAICompatibleOptions } from './options.js';
import { PRESETS } from './presets.js';

/**
 * The adapters to register: one per preset (all of them, or those `only` names; an unknown name is an
 * error), then one per preset from the options, each under its own slug.
 */
export function presetAdapters(options: OpenAICompatibleOptions): ProviderAdapter[] {
  const only = options.only ? new Set(options.only) : undefined;
  if (only) {
    for (const slug of only) if (!(slug in PRESETS)) throw new Error(`options.only names unknown preset ${JSON.stringify(slug)}`);
  }
  const adapters: ProviderAdapter[] = [];
  for (const [id, preset] of Object.entries(PRESETS)) {
    if (only && !only.has(id)) continue;
    adapters.push(createOpenAIWireAdapter({ id, displayName: preset.displayName, baseURL: preset.baseURL, endpoints: preset.endpoints }));
  }
  for (const [id, p] of Object.entries(options.presets)) {
    adapters.push(
      createOpenAIWireAdapter({
        id,
        displayName: p.display_name ?? id,
        baseURL: p.base_url?.replace(/\/+$/, ''),
        endpoints: (p.endpoints ?? ENDPOINTS) as readonly Endpoint[],
      }),
    );
  }
  return adapters;
}
