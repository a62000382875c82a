import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import { mapAnthropicError } from './errors.js';
import { isObj } from './json.js';
import { DEFAULT_ANTHROPIC_VERSION, targetOption } from './request.js';

/**
 * `GET /v1/models` to Anthropic's `GET /v1/models` (Models API, up to 1000 per page). A caller that
 * speaks Anthropic's API (it sends `anthropic-version`, as `@anthropic-ai/sdk` does) gets Anthropic's
 * list as it came; any other caller gets OpenAI's `{"object":"list","data":[...]}`.
 */
export function buildModelsRequest(input: BuildInput): UpstreamRequest {
  const headers: Record<string, string> = {
    'anthropic-version': targetOption(input, 'anthropic_version', 'anthropic-version') ?? DEFAULT_ANTHROPIC_VERSION,
  };
  if (input.target.apiKey) headers['x-api-key'] = input.target.apiKey;
  return { url: `${input.target.baseURL}/models?limit=1000`, method: 'GET', headers };
}

const anthropicCaller = (input: BuildInput) => typeof input.ctx.headers['anthropic-version'] === 'string';

export function toOpenAIModelList(json: unknown): unknown {
  if (!isObj(json) || !Array.isArray(json.data)) return json;
  const data = json.data.filter(isObj).map((m) => {
    const created = typeof m.created_at === 'string' ? Math.floor(Date.parse(m.created_at) / 1000) : NaN;
    return { id: m.id, object: 'model', created: Number.isFinite(created) ? created : 0, owned_by: 'anthropic' };
  });
  return { object: 'list', data };
}

export const models: EndpointAdapter = {
  build: buildModelsRequest,
  mapResponse: (json, input) => (anthropicCaller(input) ? json : toOpenAIModelList(json)),
  mapError: mapAnthropicError,
};
