import { BeforeRequestStage, ErrorCode, GatewayError, INHERITED_KEYS, definePlugin, pluginManifest } from '@waygate/core';
import type { ConfigNode, PluginApi, RequestContext } from '@waygate/core';
import { NATIVE_PASSTHROUGH, NATIVE_PREFIX, nativeRoute } from '@waygate/provider-kit';

export { NATIVE_PASSTHROUGH, NATIVE_PREFIX } from '@waygate/provider-kit';

const manifest = pluginManifest(import.meta.url, 'endpoint');

/** The routes: every method the core routes (GET, POST, DELETE) on every path below the prefix. */
const ROUTE = `${NATIVE_PREFIX}*`;
/** A config's keys that choose or call targets; the rest of a root (retry, timeouts, guardrails) is policy the passthrough keeps. */
const ROUTE_KEYS = new Set(['provider', 'targets', 'strategy', 'api_key', 'custom_host', 'override_params', 'name', 'weight', 'cache']);
/** Keys a leaf inherits from its ancestors (the core's, without the cache: a passthrough is never cached). */
const INHERITED = INHERITED_KEYS.filter((k) => k !== 'cache');
const CUSTOM_HOST_HEADERS = ['x-waygate-custom-host', 'x-portkey-custom-host'];
const PROVIDER_HEADERS = ['x-waygate-provider', 'x-portkey-provider'];
/** What another provider's leaf at the root gives the passthrough: the request's policy, not that provider's options. */
const LEAF_POLICY = new Set(['retry', 'request_timeout', 'stream_idle_timeout', 'deadline', 'forward_headers']);
const MAX_CACHED = 1000;

/**
 * The provider-native passthrough: `/v1/passthrough/{provider}/{path}` goes to that provider as if
 * `x-waygate-provider: {provider}` were sent, with the credentials the request's config (a gateway
 * key's, the caller's header, the file's) holds for it, or the caller's own key; the path below the
 * provider is appended to the provider's API root (its base URL, or custom host, without the version),
 * with the query. The adapters build the request (`passthrough.native`, in each provider package).
 *
 * Taps `BeforeRequestStage.CONFIG` only (never AUTH: a tap there is what tells the gateway that
 * authentication is on), where it gives the request its route: load it after `@waygate/catalogue`
 * and before `@waygate/auth`, whose CONFIG tap holds the route to the key's rules.
 */
export default definePlugin({
  manifest,
  setup(api) {
    api.register.endpoint({
      id: NATIVE_PASSTHROUGH,
      raw: true,
      routes: [
        { method: 'GET', path: ROUTE },
        { method: 'POST', path: ROUTE },
        { method: 'DELETE', path: ROUTE },
      ],
    });

    const derived = new WeakMap<ConfigNode, Map<string, ConfigNode>>();
    const bare = new Map<string, ConfigNode>();

    /** The config a passthrough to `provider` runs under (made once per config, provider and custom host header, bounded). */
    const nodeFor = (root: ConfigNode | undefined, provider: string, customHost: string | undefined): ConfigNode => {
      if (!root) {
        let node = bare.get(provider);
        if (!node) bare.set(provider, (node = { provider }));
        return node;
      }
      let byProvider = derived.get(root);
      if (!byProvider) derived.set(root, (byProvider = new Map()));
      const key = customHost === undefined ? provider : `${provider}\u0000${customHost}`;
      let node = byProvider.get(key);
      if (!node) {
        node = routeNode(root, provider, customHost);
        if (byProvider.size >= MAX_CACHED) byProvider.delete(byProvider.keys().next().value!);
        byProvider.set(key, node);
      }
      return node;
    };

    api.hooks.beforeRequest.tap(BeforeRequestStage.CONFIG, (ctx) => {
      if (ctx.endpoint !== NATIVE_PASSTHROUGH || ctx.madeBy !== undefined) return undefined;
      const { provider } = nativeRoute(ctx.path);
      checkProvider(api, provider, ctx);
      const customHost = customHostOf(ctx);
      api.authorize(ctx, { config: nodeFor(ctx.config as ConfigNode | undefined, provider, customHost) });
      return undefined;
    });
  },
});

/**
 * The custom host header, when the core took it as the caller's (under the egress policy). With no
 * config at all the core drops the header; a passthrough there would go elsewhere than asked, so it
 * is a 400 that says how to send it.
 */
function customHostOf(ctx: RequestContext): string | undefined {
  const name = CUSTOM_HOST_HEADERS.find((n) => typeof ctx.headers[n] === 'string');
  if (name === undefined) return undefined;
  if (ctx.configSource === 'file') {
    const { provider } = nativeRoute(ctx.path);
    throw new GatewayError(
      ErrorCode.INVALID_HEADER,
      400,
      `${name} on ${NATIVE_PREFIX}${provider}/... needs the provider named in a header too: send x-waygate-provider: ${provider} (or a config header)`,
      { param: name },
    );
  }
  return (ctx.headers[name] as string).trim();
}

/** A 400 for a provider that is not loaded, that serves no native passthrough, or that a provider header contradicts. */
function checkProvider(api: PluginApi, provider: string, ctx: RequestContext): void {
  const adapter = api.providers.get(provider);
  if (!adapter) {
    const known = api.providers.ids().sort();
    throw new GatewayError(
      ErrorCode.UNKNOWN_PROVIDER,
      400,
      `${NATIVE_PREFIX}${provider}: unknown provider ${JSON.stringify(provider)}; this gateway knows: ${known.join(', ') || '(none loaded)'}`,
      { param: 'path' },
    );
  }
  if (!api.endpoints.adapterFor(adapter, NATIVE_PASSTHROUGH)) {
    const serves = Object.keys(adapter.endpoints).sort();
    throw new GatewayError(
      ErrorCode.UNSUPPORTED_ENDPOINT,
      400,
      `Provider ${provider} does not serve the native passthrough (${NATIVE_PREFIX}${provider}/...); it serves: ${serves.join(', ') || 'nothing'}`,
      { param: 'path' },
    );
  }
  for (const name of PROVIDER_HEADERS) {
    const named = ctx.headers[name];
    if (typeof named === 'string' && named.trim() !== provider) {
      throw new GatewayError(
        ErrorCode.INVALID_HEADER,
        400,
        `${name} names ${JSON.stringify(named.trim())} but the path names provider ${JSON.stringify(provider)}: send one, or the same`,
        { param: name },
      );
    }
  }
}

/**
 * The leaf of `root` that reaches `provider` (its first, with what it inherits folded in), or a bare
 * leaf for it (the caller's own key, or the gateway's; under a root with targets it inherits what
 * they would, a root that is another provider's leaf gives it nothing of its own: not its custom
 * host), with the root's policy; never override_params (the body goes as it came) nor the cache.
 */
export function routeNode(root: ConfigNode, provider: string, customHost?: string): ConfigNode {
  const leaf = findLeaf(root, provider, {}) ?? {
    provider,
    ...(root.provider === undefined ? inherited(root, {}) : {}),
    ...(customHost !== undefined ? { custom_host: customHost } : {}),
  };
  // A root that is a leaf is its provider's: of it, only the request's policy (retry, timeouts) carries over.
  const policy = Object.fromEntries(
    Object.entries(root).filter(([k]) => !ROUTE_KEYS.has(k) && (root.provider === undefined || root.provider === provider || LEAF_POLICY.has(k))),
  );
  const node: ConfigNode = { ...policy, ...leaf };
  delete node.override_params;
  delete node.cache;
  return node;
}

function inherited(node: ConfigNode, from: ConfigNode): ConfigNode {
  const out: ConfigNode = { ...from };
  for (const k of INHERITED) if (node[k] !== undefined) (out as Record<string, unknown>)[k] = node[k];
  return out;
}

function findLeaf(node: ConfigNode, provider: string, above: ConfigNode): ConfigNode | undefined {
  if (node.provider !== undefined) return node.provider === provider ? { ...above, ...node } : undefined;
  const here = inherited(node, above);
  for (const t of node.targets ?? []) {
    const found = findLeaf(t, provider, here);
    if (found) return found;
  }
  return undefined;
}
