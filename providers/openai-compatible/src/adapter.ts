import type { Endpoint, ProviderAdapter } from '@waygate/core';
import { createOpenAIWireAdapter } from '@waygate/provider-openai';
import { ENDPOINTS } from './options.js';
import type { OpenAICompatibleOptions } from './options.js';
import { PRESETS } from './presets.js';
import type { Preset } from './presets.js';
import { rerankEndpoint } from './rerank.js';
import { withPromptTokens } from './voyage.js';

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
    adapters.push(presetAdapter(id, preset));
  }
  for (const [id, p] of Object.entries(options.presets)) {
    adapters.push(
      presetAdapter(id, {
        displayName: p.display_name ?? id,
        baseURL: p.base_url?.replace(/\/+$/, ''),
        endpoints: (p.endpoints ?? ENDPOINTS) as readonly Endpoint[],
      }),
    );
  }
  return adapters;
}

/** One preset's adapter: OpenAI's wire format for what it serves of OpenAI's API, plus rerank in its dialect. */
function presetAdapter(id: string, preset: Preset): ProviderAdapter {
  const { displayName, baseURL, endpoints, dialect } = preset;
  const adapter = createOpenAIWireAdapter({ id, displayName, baseURL, endpoints: [...endpoints.filter((e) => e !== 'rerank'), 'passthrough'] });
  if (endpoints.includes('rerank')) adapter.endpoints.rerank = rerankEndpoint(id, dialect ?? 'cohere');
  const embeddings = adapter.endpoints.embeddings;
  if (dialect === 'voyage' && embeddings) embeddings.mapResponse = withPromptTokens(embeddings.mapResponse);
  return adapter;
}
