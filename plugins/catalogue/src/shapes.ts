import { GatewayError } from '@waygate/core';
import type { RequestContext } from '@waygate/core';

/** One catalogue entry in OpenAI's shape (`GET /v1/models`'s `data[]`). */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/** Whether the caller speaks Anthropic's API (it sends `anthropic-version`, as `@anthropic-ai/sdk` does). */
export const anthropicCaller = (ctx: RequestContext): boolean => typeof ctx.headers['anthropic-version'] === 'string';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A provider's model list, whatever shape it came in, as OpenAI's entries with ids `provider/model`:
 * OpenAI's `{"data":[{"id"}]}` (what the provider adapters map Anthropic's list to), Anthropic's own
 * `{"data":[{"id","created_at"}]}`, Gemini's `{"models":[{"name":"models/…"}]}` and Bedrock's
 * `{"modelSummaries":[{"modelId"}]}`. Undefined for anything else (a malformed answer). `prefixed: false`
 * keeps the provider's own ids (a request that named its provider).
 */
export function entriesOf(provider: string, json: unknown, prefixed = true): ModelEntry[] | undefined {
  if (!isObj(json)) return undefined;
  const out: ModelEntry[] = [];
  const add = (id: unknown, created: number, owner: unknown) => {
    if (typeof id === 'string' && id !== '')
      out.push({ id: prefixed ? `${provider}/${id}` : id, object: 'model', created, owned_by: typeof owner === 'string' ? owner : provider || 'system' });
  };
  if (Array.isArray(json.data)) {
    for (const m of json.data.filter(isObj)) add(m.id, createdOf(m), m.owned_by);
  } else if (Array.isArray(json.models)) {
    for (const m of json.models.filter(isObj)) add(typeof m.name === 'string' ? m.name.replace(/^models\//, '') : undefined, 0, provider);
  } else if (Array.isArray(json.modelSummaries)) {
    for (const m of json.modelSummaries.filter(isObj)) add(m.modelId, 0, m.providerName);
  } else return undefined;
  return out;
}

function createdOf(m: Record<string, unknown>): number {
  if (typeof m.created === 'number' && Number.isFinite(m.created)) return m.created;
  const at = typeof m.created_at === 'string' ? Date.parse(m.created_at) : NaN;
  return Number.isFinite(at) ? Math.floor(at / 1000) : 0;
}

/** The list in OpenAI's shape. */
export const openAIList = (entries: readonly ModelEntry[]) => ({ object: 'list', data: entries });

/** One entry in Anthropic's shape (`{"type":"model","id","display_name","created_at"}`). */
export const anthropicModel = (m: ModelEntry) => ({ type: 'model', id: m.id, display_name: m.id, created_at: new Date(m.created * 1000).toISOString() });

/** The list in Anthropic's shape, one page holding everything (`has_more: false`). */
export function anthropicList(entries: readonly ModelEntry[]) {
  return {
    data: entries.map(anthropicModel),
    has_more: false,
    first_id: entries[0]?.id ?? null,
    last_id: entries[entries.length - 1]?.id ?? null,
  };
}

/** A 404 for a model the caller may not use or that does not exist, in the caller's wire shape (Anthropic's or OpenAI's). */
export function modelNotFound(anthropic: boolean, id: string): GatewayError {
  const message = `The model ${JSON.stringify(id)} does not exist or you do not have access to it`;
  const body = anthropic
    ? { type: 'error', error: { type: 'not_found_error', message } }
    : { error: { message, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } };
  return new GatewayError('model_not_found', 404, message, { type: 'not_found_error', param: 'model', body });
}
