import type { RequestContext } from './context.js';
import { createHash } from 'node:crypto';
import type { ConfigNode, PlannedTarget, Target } from './types.js';
import { INHERITED_KEYS } from './types.js';
import { ErrorCode, GatewayError, badRequest } from './errors.js';

/**
 * Helpers for strategy plugins: walking a routing config, folding inherited policy down the tree,
 * and turning a leaf into a target the kernel can call.
 */

/**
 * The child as it applies under its parent: `retry`, `cache`, `request_timeout`, `custom_host` and
 * `forward_headers` are inherited unless the child sets its own; `override_params` merge, child wins.
 */
export function inherit(parent: ConfigNode, child: ConfigNode): ConfigNode {
  const merged: ConfigNode = { ...child };
  for (const key of INHERITED_KEYS) {
    if (merged[key] === undefined && parent[key] !== undefined) (merged as Record<string, unknown>)[key] = parent[key];
  }
  if (parent.override_params) merged.override_params = { ...parent.override_params, ...child.override_params };
  return merged;
}

/** Turns a leaf node (with everything inherited already folded in) into a target. */
export function leafTarget(ctx: RequestContext, node: ConfigNode, path: string): PlannedTarget {
  const provider = node.provider;
  if (!provider) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}: not a leaf (no "provider")`, path);
  const adapter = ctx.kernel.providers.get(provider);
  if (!adapter) throw unknownProvider(ctx, provider, `${path}.provider`);
  const server = ctx.kernel.config.providers[provider];
  let apiKey = node.api_key ?? bearerKey(ctx);
  let keySource: 'request' | 'server' | undefined = apiKey !== undefined ? 'request' : undefined;
  if (apiKey === undefined && server?.api_key !== undefined) {
    if (node.custom_host !== undefined && ctx.configSource !== 'file') {
      throw new GatewayError(
        ErrorCode.MISSING_CREDENTIALS,
        400,
        `${path}: a request-supplied custom host cannot be used with the gateway's own ${provider} key; send your own key`,
        { param: `${path}.custom_host` },
      );
    }
    apiKey = server.api_key;
    keySource = 'server';
  }
  const baseURL = node.custom_host ?? server?.base_url ?? adapter.baseURL;
  if (!baseURL) {
    throw badRequest(
      ErrorCode.INVALID_CONFIG,
      `${path}: provider ${provider} has no default address; set custom_host (or the x-waygate-custom-host header)`,
      `${path}.custom_host`,
    );
  }
  return { provider, apiKey, keySource, baseURL, node, path };
}

/**
 * A stable identity for a target's upstream: provider, base URL and a hash of the key, so circuit
 * breakers and load-balancing statistics treat two tenants' keys as two targets and never hold a
 * key itself. Cached per distinct combination (bounded).
 */
export function targetKey(target: Target): string {
  const raw = `${target.provider}\u0000${target.baseURL ?? ''}\u0000${target.apiKey ?? ''}`;
  let key = targetKeys.get(raw);
  if (key === undefined) {
    const keyHash = target.apiKey ? createHash('sha256').update(target.apiKey).digest('hex').slice(0, 16) : '-';
    key = `${target.provider}|${target.baseURL ?? ''}|${keyHash}`;
    if (targetKeys.size >= 4096) targetKeys.delete(targetKeys.keys().next().value!);
    targetKeys.set(raw, key);
  }
  return key;
}
const targetKeys = new Map<string, string>();

export function unknownProvider(ctx: Pick<RequestContext, 'kernel'>, provider: string, where: string): GatewayError {
  const known = [...ctx.kernel.providers.keys()].sort();
  return new GatewayError(
    ErrorCode.UNKNOWN_PROVIDER,
    400,
    `${where}: unknown provider ${JSON.stringify(provider)}; this gateway knows: ${known.join(', ') || '(none loaded)'}`,
    { param: where },
  );
}

/**
 * The caller's provider key, used where a config names none: `Authorization: Bearer <key>`, else an
 * `x-api-key` header (what Anthropic's SDKs send, on `/v1/messages` and elsewhere).
 */
export function bearerKey(ctx: RequestContext): string | undefined {
  const auth = ctx.headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') {
    const key = auth.slice(7).trim();
    if (key) return key;
  }
  const apiKey = ctx.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() || undefined : undefined;
}
