import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { isObj } from './json.js';
import { base } from './request.js';

/**
 * `GET /v1/models` to the Gemini API's `GET /models` (one page of up to 1000): each model's `name`
 * (`models/gemini-2.5-flash`) becomes the id a chat request names (`gemini-2.5-flash`), in OpenAI's
 * `{"object":"list","data":[...]}`. Gemini reports no creation time: `created` is 0.
 */
export function buildModels(input: BuildInput): UpstreamRequest {
  const headers: Record<string, string> = {};
  if (input.target.apiKey) headers['x-goog-api-key'] = input.target.apiKey;
  return { url: `${base(input)}/models?pageSize=1000`, method: 'GET', headers };
}

export function toOpenAIModelList(json: unknown): unknown {
  if (!isObj(json) || !Array.isArray(json.models)) return { object: 'list', data: [] };
  const data = json.models.filter(isObj).flatMap((m) => {
    if (typeof m.name !== 'string') return [];
    return [{ id: m.name.replace(/^models\//, ''), object: 'model', created: 0, owned_by: 'google' }];
  });
  return { object: 'list', data };
}
