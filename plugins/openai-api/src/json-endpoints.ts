import { BeforeRequestStage, ErrorCode, GatewayError } from '@waygate/core';
import type { PluginApi, PlannedTarget, RequestContext } from '@waygate/core';
import { parseRerankRequest } from '@waygate/provider-kit';
import { MODERATIONS_ENDPOINT, checkModerationRequest } from './moderations.js';
import { RERANK_ENDPOINT } from './rerank.js';

/** The JSON endpoints beyond chat, completions, embeddings and models, with the check of their bodies. */
const CHECKS: Record<string, (ctx: RequestContext) => void> = {
  moderations: (ctx) => checkModerationRequest(ctx.body),
  rerank: (ctx) => void parseRerankRequest(ctx.body),
};

/**
 * Registers `/v1/moderations` and `/v1/rerank` and taps `beforeRequest` at NORMAL for their requests
 * only: a bad body is a 400 naming the field before any upstream call, and a plan whose first target
 * does not serve the endpoint is a 400 that says what that provider serves and which providers serve
 * the endpoint. (The attempt loop would stop there too, with a terser message: a gateway error is
 * not a reason to fall back, so a target that does not serve the endpoint ends the request.)
 */
export function setupJsonEndpoints(api: PluginApi): void {
  api.register.endpoint(MODERATIONS_ENDPOINT);
  api.register.endpoint(RERANK_ENDPOINT);
  const servedBy = new Map<string, string[]>();
  const serves = (provider: string, endpoint: string): boolean => {
    const p = api.providers.get(provider);
    return p !== undefined && api.endpoints.adapterFor(p, endpoint) !== undefined;
  };
  api.hooks.beforeRequest.tap(BeforeRequestStage.NORMAL, (ctx) => {
    const check = CHECKS[ctx.endpoint];
    if (!check) return undefined;
    check(ctx);
    const first = api.plan(ctx).targets[0]!;
    if (serves(first.provider, ctx.endpoint)) return undefined;
    let all = servedBy.get(ctx.endpoint);
    if (!all) servedBy.set(ctx.endpoint, (all = api.providers.ids().filter((id) => serves(id, ctx.endpoint))));
    throw notServed(ctx.endpoint, first, all, Object.keys(api.providers.get(first.provider)?.endpoints ?? {}));
  });
}

function notServed(endpoint: string, target: PlannedTarget, servers: readonly string[], own: readonly string[]): GatewayError {
  const where = servers.length ? `${endpoint} is served by ${servers.join(', ')}` : `no loaded provider serves ${endpoint}`;
  const id = target.provider;
  return new GatewayError(
    ErrorCode.UNSUPPORTED_ENDPOINT,
    400,
    `${endpoint} is not served by provider ${id} (${id} serves ${own.join(', ') || 'nothing'}); ${where}`,
    { param: `${target.path}.provider` },
  );
}
