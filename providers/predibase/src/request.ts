import { badRequest, ErrorCode } from '@waygate/core';
import type { BuildInput, UpstreamRequest } from '@waygate/core';
import { targetOption } from '@waygate/provider-openai';
import { str } from '@waygate/provider-kit';
import type { Json } from '@waygate/provider-kit';
import { generateRequest } from '@waygate/provider-tgi';
import type { TgiKind } from '@waygate/provider-tgi';

/**
 * Requests to Predibase's native API: a deployment of a tenant serves LoRAX's `/generate` and
 * `/generate_stream` at `{origin}/{tenant}/deployments/v2/llms/{deployment}`, with TGI's body
 * (`inputs`, `parameters`) plus `adapter_id` and `adapter_source` for a fine-tuned adapter.
 */

/** Predibase's serving origin; a custom host replaces it (the tenant and deployment path still follow). */
export const DEFAULT_BASE_URL = 'https://serving.app.predibase.com';

/** One path segment of letters, digits, `_`, `-` and `.`, starting with a letter or digit (never `.` or `..`). */
const SEGMENT = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

/** Where a request goes, and the adapter it asks for. */
export interface PredibaseRoute {
  tenant: string;
  deployment: string;
  adapterId?: string;
}

/**
 * The tenant, the deployment and the adapter of a request, as Portkey's `predibase` reads them: the
 * tenant from the target's `predibase_tenant_id` (or the `x-waygate-`/`x-portkey-predibase-tenant-id`
 * header), else the body's `user` (Portkey's place for it); the model as `<deployment>[:<adapter_id>]`
 * (`llama-3-8b:sentiment/1`), the deployment overridden by `predibase_deployment` when set. A missing
 * or unsafe tenant or deployment is a 400 naming its field.
 */
export function predibaseRoute(input: BuildInput): PredibaseRoute {
  const where = input.target.path;
  const tenant = targetOption(input, 'predibase_tenant_id', 'predibase-tenant-id') ?? str(input.body?.user);
  if (!tenant)
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${where}.predibase_tenant_id: predibase needs the tenant id (predibase_tenant_id, the x-waygate-predibase-tenant-id header, or the body's user)`,
      `${where}.predibase_tenant_id`,
    );
  if (!SEGMENT.test(tenant))
    throw badRequest(ErrorCode.INVALID_CONFIG, `${where}.predibase_tenant_id: not a Predibase tenant id`, `${where}.predibase_tenant_id`);
  const model = str(input.body?.model) ?? '';
  const colon = model.indexOf(':');
  const named = colon === -1 ? model : model.slice(0, colon);
  const adapterId = colon === -1 ? undefined : model.slice(colon + 1);
  const deployment = targetOption(input, 'predibase_deployment', 'predibase-deployment') ?? named;
  if (!deployment) throw badRequest(ErrorCode.INVALID_REQUEST, 'predibase: `model` must name the deployment, as <deployment>[:<adapter_id>]', 'model');
  if (!SEGMENT.test(deployment))
    throw badRequest(ErrorCode.INVALID_REQUEST, `predibase: ${JSON.stringify(deployment.slice(0, 200))} is not a deployment name`, 'model');
  if (adapterId !== undefined && (adapterId === '' || adapterId.length > 256))
    throw badRequest(ErrorCode.INVALID_REQUEST, 'predibase: the adapter after `:` in `model` must be an adapter id (repo/version)', 'model');
  return adapterId === undefined ? { tenant, deployment } : { tenant, deployment, adapterId };
}

/** The deployment's URL, `/generate` to be appended: the origin (or custom host), the tenant, the deployment. */
export function deploymentUrl(input: BuildInput, route: PredibaseRoute): string {
  const origin = (input.target.baseURL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  return `${origin}/${route.tenant}/deployments/v2/llms/${route.deployment}`;
}

/** The adapter as LoRAX's parameters: a Predibase adapter (`repo/version`) is `adapter_source: "pbase"`; the request's `parameters` override both. */
export function adapterParameters(route: PredibaseRoute): Json | undefined {
  return route.adapterId === undefined ? undefined : { adapter_id: route.adapterId, adapter_source: 'pbase' };
}

/** The upstream request: TGI's body on the deployment's `/generate` (or `/generate_stream`), the key as a bearer token. */
export function predibaseRequest(input: BuildInput, kind: TgiKind): UpstreamRequest {
  const route = predibaseRoute(input);
  return generateRequest(input, kind, deploymentUrl(input, route), 'predibase', adapterParameters(route));
}
