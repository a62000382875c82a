import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import { gatewayHeaders, versionlessPath } from './request.js';
import type { WireRequestOptions, WireRoute } from './request.js';

/**
 * OpenAI's Responses API, passed through: the client's bytes go to `{baseURL}/responses` untouched
 * (new fields survive) and the JSON answer and the SSE stream come back as they are.
 */
export const RESPONSES_PATHS: Record<string, WireRoute> = {
  responses: { path: '/responses', method: 'POST' },
};

/** `GET` / `DELETE /v1/responses/{id}` and `…/input_items`, forwarded to the same path on the target with the caller's query (`limit`, `order`, `after`). */
export function responseItemAdapter(opts: WireRequestOptions): EndpointAdapter {
  return {
    build: (input: BuildInput): UpstreamRequest => ({
      url: `${input.target.baseURL}${versionlessPath(input.ctx)}${input.ctx.query}`,
      method: input.ctx.method === 'DELETE' ? 'DELETE' : 'GET',
      headers: gatewayHeaders(opts, input),
    }),
  };
}
