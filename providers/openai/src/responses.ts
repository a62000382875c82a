import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import { wireRequest } from './request.js';
import type { WireRequestOptions, WireRoute } from './request.js';

/**
 * OpenAI's Responses API, passed through: the client's bytes go to `{baseURL}/responses` untouched
 * (new fields survive) and the JSON answer and the SSE stream come back as they are.
 */
export const RESPONSES_PATHS: Record<string, WireRoute> = {
  responses: { path: '/responses', method: 'POST' },
};

/** The path below the version of `GET` / `DELETE /v1/responses/{id}[/input_items]` (with the caller's query: `limit`, `order`, `after`). */
export const responseItemPath = (input: BuildInput): string => input.ctx.path.replace(/^\/v1(?=\/)/, '');

/** `GET` / `DELETE /v1/responses/{id}` and `…/input_items`, forwarded to the same path on the target. */
export function responseItemAdapter(opts: WireRequestOptions): EndpointAdapter {
  const base = wireRequest(opts, { path: '', method: 'GET' });
  return {
    build(input: BuildInput): UpstreamRequest {
      const req = base(input);
      req.url = `${input.target.baseURL}${responseItemPath(input)}${input.ctx.query}`;
      req.method = input.ctx.method === 'DELETE' ? 'DELETE' : 'GET';
      return req;
    },
  };
}
