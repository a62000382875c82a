import type { BuildInput, EndpointAdapter, UpstreamRequest } from '@waygate/core';
import { createOpenAIWireAdapter, targetOption } from '@waygate/provider-openai';
import { azureOptions, azureURL, DEFAULT_API_VERSION } from './request.js';

/**
 * Azure OpenAI's Responses API, passed through byte for byte. Azure serves it at
 * `{host}/openai/v1/responses` (the v1 API, used when no api_version or `v1` is given) or, for a
 * dated preview version, at `{host}/openai/responses?api-version=…`; the model names the deployment.
 */
const wire = createOpenAIWireAdapter({
  id: 'azure-openai',
  endpoints: ['responses'],
  authHeader: (key) => ['api-key', key],
  headers: (input) => ({ 'openai-beta': targetOption(input, 'openai_beta', 'openai-beta') }),
});

/** The Responses URL on the target's Azure host. */
export function azureResponsesURL(input: BuildInput): string {
  const opts = azureOptions(input);
  // azureURL validates resource_name and api_version and makes the host (resource_name or custom_host).
  const probe = azureURL(input, 'chat.completions', { ...opts, deploymentId: 'probe' });
  const host = probe.slice(0, probe.lastIndexOf('/openai/'));
  if (opts.apiVersion === 'v1' || opts.apiVersion === DEFAULT_API_VERSION) return `${host}/openai/v1/responses`;
  return `${host}/openai/responses?api-version=${encodeURIComponent(opts.apiVersion)}`;
}

/** `GET` / `DELETE /v1/responses/{id}` and `…/input_items`, at the same place below Azure's Responses URL. */
export const azureResponseItem: EndpointAdapter = {
  build(input: BuildInput): UpstreamRequest {
    const req = wire.endpoints['responses.item']!.build(input);
    const [url, query] = azureResponsesURL(input).split('?');
    const q = [input.ctx.query.slice(1), query].filter(Boolean).join('&');
    req.url = `${url}${input.ctx.path.replace(/^\/v1\/responses/, '')}${q ? `?${q}` : ''}`;
    authorize(req, input);
    return req;
  },
};

function authorize(req: UpstreamRequest, input: BuildInput): void {
  const { adToken } = azureOptions(input);
  if (adToken) {
    delete req.headers['api-key'];
    req.headers['authorization'] = `Bearer ${adToken}`;
  }
}

export const azureResponses: EndpointAdapter = {
  build(input: BuildInput): UpstreamRequest {
    const req = wire.endpoints.responses!.build(input);
    req.url = azureResponsesURL(input);
    authorize(req, input);
    return req;
  },
};
