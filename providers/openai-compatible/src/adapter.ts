import { badRequest, ErrorCode, GatewayError } from '@waygate/core';
import type { BuildInput, Endpoint, EndpointAdapter, ProviderAdapter } from '@waygate/core';
import { createOpenAIWireAdapter, targetOption } from '@waygate/provider-openai';
import { nomicEmbeddings } from './nomic.js';
import { ENDPOINTS } from './options.js';
import type { OpenAICompatibleOptions } from './options.js';
import { PRESETS } from './presets.js';
import type { HostParam, Preset } from './presets.js';
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

/** The gateway's endpoints that a preset with `serves` answers with a 400 when it lacks them. */
export const GATEWAY_ENDPOINTS: readonly Endpoint[] = [
  'chat.completions',
  'completions',
  'embeddings',
  'models',
  'moderations',
  'rerank',
  'messages',
  'messages.count_tokens',
];

/** The endpoint adapters that only refuse (a provider's unserved endpoints), so tests and docs can tell them apart. */
export const REFUSING = new WeakSet<EndpointAdapter>();

/** One preset's adapter: OpenAI's wire format for what it serves of OpenAI's API, plus rerank in its dialect. */
function presetAdapter(id: string, preset: Preset): ProviderAdapter {
  const { displayName, baseURL, endpoints, dialect } = preset;
  const wired = endpoints.filter((e) => e !== 'rerank' && !(e === 'embeddings' && preset.nomicEmbeddings));
  const adapter = createOpenAIWireAdapter({ id, displayName, baseURL, endpoints: [...wired, 'passthrough'] });
  if (endpoints.includes('rerank')) adapter.endpoints.rerank = rerankEndpoint(id, dialect ?? 'cohere');
  if (preset.nomicEmbeddings) adapter.endpoints.embeddings = nomicEmbeddings();
  const embeddings = adapter.endpoints.embeddings;
  if (dialect === 'voyage' && embeddings) embeddings.mapResponse = withPromptTokens(embeddings.mapResponse);
  if (preset.params || preset.query) {
    for (const e of Object.values(adapter.endpoints)) if (e) e.build = templated(id, preset, e.build.bind(e));
  }
  if (preset.serves !== undefined) {
    // Anthropic's messages are bridged through chat completions: a preset that serves chat serves them too.
    const bridged = (name: Endpoint) => name.startsWith('messages') && endpoints.includes('chat.completions');
    for (const name of GATEWAY_ENDPOINTS) if (!adapter.endpoints[name] && !bridged(name)) adapter.endpoints[name] = refusing(id, name, preset.serves);
  }
  return adapter;
}

/** An endpoint a provider does not serve: a 400 naming what it serves instead. */
function refusing(id: string, name: Endpoint, serves: string): EndpointAdapter {
  const adapter: EndpointAdapter = {
    build: (input) => {
      throw new GatewayError(ErrorCode.UNSUPPORTED_ENDPOINT, 400, `Provider ${id} does not support ${name}: ${serves}`, {
        param: `${input.target.path}.provider`,
      });
    },
  };
  REFUSING.add(adapter);
  return adapter;
}

/** A target option that goes into a URL: absent is undefined, present it must match its pattern (else a 400 naming it). */
function urlValue(id: string, input: BuildInput, p: HostParam): string | undefined {
  const v = targetOption(input, p.key, p.header);
  if (v !== undefined && !p.pattern.test(v)) {
    const where = `${input.target.path}.${p.key}`;
    throw badRequest(ErrorCode.INVALID_CONFIG, `${where}: ${id} needs ${p.key} to be ${p.what}`, where);
  }
  return v;
}

/**
 * The build() of an endpoint whose base URL is a template: unless a custom host (or the config
 * file's base_url) replaced it, each `{key}` is filled from the target's option of that name (a
 * missing or malformed one is a 400 naming it); the query parameter, if any, is added.
 */
export function templated(id: string, preset: Preset, build: EndpointAdapter['build']): EndpointAdapter['build'] {
  return (input) => {
    let base = input.target.baseURL ?? '';
    if (preset.params && base === preset.baseURL) {
      for (const p of preset.params) {
        const v = urlValue(id, input, p);
        if (v === undefined) {
          const where = `${input.target.path}.${p.key}`;
          throw badRequest(
            ErrorCode.INVALID_CONFIG,
            `${where}: ${id} needs ${p.key} (or the x-waygate-${p.header} header), ${p.what}, or a custom_host`,
            where,
          );
        }
        base = base.replace(`{${p.key}}`, v);
      }
    }
    const req = build({ ...input, target: { ...input.target, baseURL: base } });
    const q = preset.query;
    if (q) {
      const v = urlValue(id, input, q) ?? q.default;
      req.url += `${req.url.includes('?') ? '&' : '?'}${q.name}=${encodeURIComponent(v)}`;
    }
    return req;
  };
}
