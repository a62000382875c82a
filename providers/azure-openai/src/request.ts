import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, Endpoint, UpstreamRequest } from '@waygate/core';
import { createOpenAIWireAdapter, targetOption, versionlessPath } from '@waygate/provider-openai';
import { callerHeader, nativePassthrough } from '@waygate/provider-kit';

/** The api-version used when none is given: a current GA version of the data-plane API. */
export const DEFAULT_API_VERSION = '2024-10-21';

/**
 * The adapter's default base URL. It is a template, not an address: without a custom host the real
 * host is built from `resource_name`. (The kernel needs a default to route a leaf without custom_host.)
 */
export const AZURE_HOST_TEMPLATE = 'https://{resource_name}.openai.azure.com';

/** One DNS label: letters, digits and inner hyphens, at most 63 characters. */
const DNS_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
/** api-version values look like 2024-10-21, 2025-04-01-preview, or `v1`. */
const API_VERSION = /^(?:v1|preview|\d{4}-\d{2}-\d{2}(?:-preview)?)$/;

const PATHS: Record<string, string> = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** Forwarded endpoints Azure serves per deployment (`/openai/deployments/{d}/…`); files and batches are per resource. */
const PER_DEPLOYMENT = new Set(['images.generations', 'images.edits', 'images.variations', 'audio.speech', 'audio.transcriptions', 'audio.translations']);

/** The endpoints Azure OpenAI serves by forwarding the client's request (see provider-openai's FORWARDED_ENDPOINTS). */
export const AZURE_FORWARDED: readonly Endpoint[] = [...PER_DEPLOYMENT, 'files', 'batches'];

export interface AzureOptions {
  resourceName?: string;
  deploymentId?: string;
  apiVersion: string;
  adToken?: string;
}

/** Reads the Azure options from the config node (snake_case) or headers (`x-waygate-azure-…` / `x-portkey-azure-…`). */
export function azureOptions(input: BuildInput): AzureOptions {
  const resourceName = targetOption(input, 'resource_name', 'azure-resource-name');
  const deploymentId = targetOption(input, 'deployment_id', 'azure-deployment-id');
  const apiVersion = targetOption(input, 'api_version', 'azure-api-version') ?? DEFAULT_API_VERSION;
  let adToken = targetOption(input, 'azure_ad_token', 'azure-ad-token');
  if (adToken) adToken = adToken.replace(/^Bearer\s+/i, '').trim() || undefined;
  return { resourceName, deploymentId, apiVersion, adToken };
}

/** The resource's host (`https://{resource_name}.openai.azure.com`) or the custom host, without a trailing slash. */
export function azureHost(input: BuildInput, opts: AzureOptions = azureOptions(input)): string {
  const p = input.target.path;
  if (opts.resourceName !== undefined && !DNS_LABEL.test(opts.resourceName)) {
    throw badRequest(ErrorCode.INVALID_CONFIG, `${p}: resource_name must be an Azure resource name (letters, digits and hyphens)`, `${p}.resource_name`);
  }
  let host = input.target.baseURL;
  if (!host || host === AZURE_HOST_TEMPLATE) {
    if (!opts.resourceName) {
      throw badRequest(
        ErrorCode.INVALID_CONFIG,
        `${p}: azure-openai needs resource_name (or the x-waygate-azure-resource-name header) or a custom_host`,
        `${p}.resource_name`,
      );
    }
    host = `https://${opts.resourceName.toLowerCase()}.openai.azure.com`;
  }
  return host.replace(/\/+$/, '');
}

/** The upstream URL for an endpoint, or a 400 GatewayError for options that cannot make one. */
export function azureURL(input: BuildInput, endpoint: string, opts: AzureOptions = azureOptions(input)): string {
  // A forwarded endpoint keeps the client's path after /v1 and its query.
  const path = PATHS[endpoint] ?? versionlessPath(input.ctx);
  const query = PATHS[endpoint] ? '' : input.ctx.query;
  const p = input.target.path;
  const host = azureHost(input, opts);
  if (!API_VERSION.test(opts.apiVersion)) {
    throw badRequest(ErrorCode.INVALID_CONFIG, `${p}: api_version ${JSON.stringify(opts.apiVersion)} is not an Azure API version`, `${p}.api_version`);
  }
  if (opts.apiVersion === 'v1') return `${host}/openai/v1${path}${query}`;
  const version = `${query ? `${query}&` : '?'}api-version=${encodeURIComponent(opts.apiVersion)}`;
  if (!PATHS[endpoint] && !PER_DEPLOYMENT.has(endpoint)) return `${host}/openai${path}${version}`;
  let deployment = opts.deploymentId;
  if (!deployment) {
    const model = input.body?.model;
    if (typeof model === 'string' && model) deployment = model;
  }
  if (!deployment) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${p}: azure-openai needs deployment_id (or the x-waygate-azure-deployment-id header), or api_version "v1"`,
      `${p}.deployment_id`,
    );
  }
  return `${host}/openai/deployments/${encodeURIComponent(deployment)}${path}${version}`;
}

const wire = createOpenAIWireAdapter({
  id: 'azure-openai',
  endpoints: ['chat.completions', 'completions', 'embeddings', ...AZURE_FORWARDED],
  authHeader: (key) => ['api-key', key],
  headers: (input) => ({ 'openai-beta': targetOption(input, 'openai_beta', 'openai-beta') }),
});

/** The build() of an endpoint: OpenAI's wire request at Azure's URL, with an Entra token instead of the key when one is given. */
export function azureRequest(name: Endpoint): (input: BuildInput) => UpstreamRequest {
  const inner = wire.endpoints[name]!;
  return (input: BuildInput): UpstreamRequest => {
    const opts = azureOptions(input);
    const url = azureURL(input, name, opts);
    const req = inner.build(input);
    req.url = url;
    if (opts.adToken) {
      delete req.headers['api-key'];
      req.headers['authorization'] = `Bearer ${opts.adToken}`;
    }
    return req;
  };
}

/**
 * The native passthrough (`/v1/passthrough/azure-openai/openai/...?api-version=...`): the path and
 * query as they came on the resource's host (or custom host), the key as `api-key` (the target's, else
 * the one the caller sent in that header, as Azure's SDKs do), or the Entra token.
 */
export const azurePassthroughNative = nativePassthrough('azure-openai', {
  root: (input) => azureHost(input),
  auth: (input) => {
    const { adToken } = azureOptions(input);
    if (adToken) return { authorization: `Bearer ${adToken}` };
    return { 'api-key': input.target.apiKey ?? callerHeader(input.ctx, 'api-key') };
  },
});
