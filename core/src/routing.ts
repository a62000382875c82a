import { createHash } from 'node:crypto';
import type { RequestContext } from './context.js';
import type { ConfigNode, PlannedTarget, Target } from './types.js';
import type { ProviderAdapter } from './contracts.js';
import type { FileConfig } from './config.js';
import type { Hooks } from './hooks.js';
import type { NamedRegistry } from './registry.js';
import { INHERITED_KEYS } from './types.js';
import { ErrorCode, GatewayError, badRequest } from './errors.js';
import { strategyModes } from './hooks.js';

/**
 * Routing: walking a request's routing config with the strategies tapped on `selectTarget`, folding
 * inherited policy down the tree, and turning each leaf into a target the kernel can call.
 */

/**
 * Says whether a target may be tried now (a circuit breaker registers one). Called on the hot path:
 * keep it synchronous and cheap.
 */
export type AvailabilityCheck = (target: Target, ctx: RequestContext) => boolean;

/** What routing reads of the kernel: the loaded providers and the config file's provider defaults. */
export interface RoutingServices {
  readonly hooks: Hooks;
  readonly providers: NamedRegistry<ProviderAdapter>;
  readonly config: Pick<FileConfig, 'providers'>;
  readonly availability: readonly AvailabilityCheck[];
}

/** Expands a whole routing config into the ordered targets to try: what `selectTarget` yields. */
export function planRoute(services: RoutingServices, ctx: RequestContext): PlannedTarget[] {
  const state = { leaves: 0 };
  const targets = expandNode(services, ctx, ctx.config, 'config', state);
  if (targets.length === 0 && state.leaves > 0) {
    throw new GatewayError(ErrorCode.NO_AVAILABLE_TARGET, 503, 'Every target this request could use is unavailable (circuit open); try again later', {
      retryable: true,
    });
  }
  return targets;
}

function expandNode(services: RoutingServices, ctx: RequestContext, node: ConfigNode, path: string, state: { leaves: number }): PlannedTarget[] {
  if (node.provider !== undefined) {
    state.leaves++;
    const target = leafTarget(services, ctx, node, path);
    for (const check of services.availability) if (!check(target, ctx)) return [];
    return [target];
  }
  const mode = node.strategy?.mode;
  const hook = mode === undefined ? undefined : services.hooks.selectTarget.get(mode);
  if (!hook || hook.taps.length === 0) throw unknownStrategy(services, mode, path);
  const children = node.targets ?? [];
  const expand = (i: number): PlannedTarget[] => {
    const child = children[i];
    if (!child) throw new Error(`${path}: no target ${i}`);
    return expandNode(services, ctx, inherit(node, child), `${path}.targets[${i}]`, state);
  };
  const planned = hook.call(node, ctx, expand, path);
  if (planned === undefined) throw unknownStrategy(services, mode, path);
  return planned;
}

/** No plugin answers for a node's `strategy.mode`. */
export function unknownStrategy(services: Pick<RoutingServices, 'hooks'>, mode: string | undefined, path: string): GatewayError {
  return badRequest(
    ErrorCode.INVALID_CONFIG,
    `${path}.strategy.mode ${JSON.stringify(mode ?? '(none)')}: no loaded plugin handles this routing strategy (loaded: ${strategyModes(services.hooks).join(', ') || 'none'})`,
    `${path}.strategy.mode`,
  );
}

/**
 * The child as it applies under its parent: `retry`, `cache`, `request_timeout`, `custom_host` and
 * `forward_headers` are inherited unless the child sets its own; `override_params` merge, child wins.
 */
export function inherit(parent: ConfigNode, child: ConfigNode): ConfigNode {
  const merged: ConfigNode = { ...child };
  for (const key of INHERITED_KEYS) if (merged[key] === undefined && parent[key] !== undefined) (merged as Record<string, unknown>)[key] = parent[key];
  if (parent.override_params) merged.override_params = { ...parent.override_params, ...child.override_params };
  return merged;
}

/** Turns a leaf node (with everything inherited already folded in) into a target. */
export function leafTarget(services: Omit<RoutingServices, 'hooks' | 'availability'>, ctx: RequestContext, node: ConfigNode, path: string): PlannedTarget {
  const provider = node.provider;
  if (!provider) throw badRequest(ErrorCode.INVALID_CONFIG, `${path}: not a leaf (no "provider")`, path);
  const adapter = services.providers.get(provider);
  if (!adapter) throw unknownProvider(services.providers, provider, `${path}.provider`);
  const server = services.config.providers[provider];
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

export function unknownProvider(providers: Pick<NamedRegistry<ProviderAdapter>, 'names'>, provider: string, where: string): GatewayError {
  const known = providers.names().sort();
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
