import type { z } from 'zod';
import type { Logger } from 'pino';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { PluginHooks } from './hooks.js';
import type { PluginRegistry } from './registry.js';
import type { RequestContext, RequestSlot } from './context.js';
import type { EndpointAdapter, EndpointDefinition, ProviderAdapter } from './contracts.js';
import type { FileConfig } from './config.js';
import type { GatewayError } from './errors.js';
import type { GatewayResponse } from './response.js';
import type { UpstreamClient } from './upstream.js';
import type { EgressPolicy } from './egress.js';
import type { AvailabilityCheck } from './routing.js';
import type { ConfigNode, Endpoint, RoutePlan } from './types.js';

export type PluginKind = 'provider' | 'guardrail' | 'cache' | 'strategy' | 'policy' | 'endpoint' | 'observability' | 'other';

export interface PluginManifest {
  /** The npm package name, e.g. `@waygate/guardrail-regex` or `acme-waygate-moderation`. */
  name: string;
  /** The plugin's own version (semver). */
  version: string;
  kind: PluginKind;
  /** The semver range of @waygate/core this plugin works with, e.g. `^1.0.0`. */
  core: string;
  description?: string;
}

/** A request a plugin makes through the whole house on behalf of a client's request (an embeddings call). */
export interface SubRequestInit {
  endpoint: Endpoint;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The client's request: the sub-request shares its trace id and is aborted when that client goes away. */
  parent?: RequestContext;
}

/** Serves a plugin's own HTTP route (see `register.route`): it reads the request and writes the whole answer. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * What one plugin's setup() receives: its own view of the kernel. Tap-only hooks with named stages,
 * register functions, the services a plugin needs, and nothing else: a plugin cannot call a hook,
 * intercept one, seal the kernel or reach another plugin's view. Everything that registers or taps
 * is refused after start-up.
 */
export interface PluginApi {
  /** The plugin's name (its manifest's): the taps' name, the logger's `plugin` field. */
  readonly name: string;
  /** The version of @waygate/core running. */
  readonly coreVersion: string;
  /** The four hooks, tap only. */
  readonly hooks: PluginHooks;
  readonly register: {
    /** A provider adapter, by its slug. */
    provider(adapter: ProviderAdapter): void;
    /** A client-facing API endpoint and its routes. */
    endpoint(definition: EndpointDefinition): void;
    /** A check every leaf target must pass to be planned (a circuit breaker's). */
    availabilityCheck(check: AvailabilityCheck): void;
    /**
     * A non-LLM HTTP route (an admin API): every method on `prefix` (one path segment, e.g. `/admin`)
     * and below. Served only where no endpoint's route matches; not counted in draining or the request log.
     */
    route(prefix: string, handler: RouteHandler): void;
  };
  /**
   * A registry of named things plugins offer each other, by kind (`checks` for guardrail checks,
   * `caches` for cache backends). The plugin that uses a kind defines its contract; the core only
   * keeps the names, attributes each to the plugin that registered it, and seals them at start-up.
   */
  registry<T>(kind: string): PluginRegistry<T>;
  /** The loaded providers and endpoints, read only. */
  readonly providers: { get(id: string): ProviderAdapter | undefined; has(id: string): boolean; ids(): string[] };
  readonly endpoints: {
    get(id: Endpoint): EndpointDefinition | undefined;
    /** The adapter a provider serves an endpoint with: its own, or one through the endpoint's bridge. */
    adapterFor(provider: ProviderAdapter, id: Endpoint): EndpointAdapter | undefined;
  };
  /** The gateway's config file, read only. Holds provider keys: never log it whole. */
  readonly config: Readonly<FileConfig>;
  /** A pino logger bound to `{ plugin: name }`. */
  readonly logger: Logger;
  /** The gateway's upstream HTTP client (keep-alive pools per origin). */
  readonly upstream: UpstreamClient;
  /**
   * The egress policy, for every call out a caller can steer (a URL from a request or a config
   * header): `check(url, where)` refuses (a 400) a URL by its text, `fetch` and `dispatcher` (undici)
   * resolve names and refuse forbidden addresses at connect time; `private` is the effective policy.
   */
  readonly egress: Pick<EgressPolicy, 'private' | 'check' | 'fetch' | 'dispatcher'>;
  /** Whether start-up is over. */
  readonly sealed: boolean;
  /**
   * A check run on every node of every routing config where configs are checked (at start-up for the
   * file's, once per distinct config header): a plugin that reads its own keys from the config
   * rejects what it cannot honour with a 400 naming the path.
   */
  addConfigCheck(check: (node: ConfigNode, path: string) => void): void;
  /** Runs at the end of start-up, once every plugin has loaded, just before the kernel seals. A throw stops start-up. */
  onSeal(fn: () => void): void;
  /** Cleanup when the gateway stops (close pools, flush buffers). */
  onClose(fn: () => unknown): void;
  /** The request's route plan, made once: the strategies run at most once per request, whoever asks first. Not before `BeforeRequestStage.CONFIG`. */
  plan(ctx: RequestContext): RoutePlan;
  /**
   * An auth plugin's grant for a request it accepted, given at `BeforeRequestStage.AUTH` (before the
   * request's config is resolved at CONFIG): `withhold`, the request headers that held the gateway's
   * own credential, removed so that they are never read as a provider key nor sent on; `config`, the
   * routing config of a request that sends none (no config or provider header), the operator's like
   * the file's, checked like a config header's (once per distinct object: a 400 naming the path);
   * `metadata`, over the request's own x-waygate-metadata (routing conditions see it).
   */
  authorize(ctx: RequestContext, grant: { withhold?: readonly string[]; config?: ConfigNode; metadata?: Record<string, unknown> }): void;
  /**
   * Loads the config (the file again) and its plugins beside the running ones and, once all is valid,
   * serves new requests with them; in-flight ones finish on the old. Resolves with the new config's
   * version; rejects with the reasons, the old still serving.
   */
  reload(): Promise<string>;
  /** The definition of the endpoint a request is for. */
  endpointOf(ctx: RequestContext): EndpointDefinition | undefined;
  /** A response for an error, in the shape of the request's API. */
  errorResponse(err: GatewayError, ctx: RequestContext): GatewayResponse;
  /** Runs a request the plugin makes (see SubRequestInit) through the whole house. */
  subrequest(init: SubRequestInit): Promise<GatewayResponse>;
  /** A per-request state slot for this plugin, typed by the plugin, kept on each request; each call makes a new slot. */
  requestState<T>(): RequestSlot<T>;
}

/**
 * A Waygate plugin: a manifest, an optional zod schema for its options, and setup(), which taps the
 * hooks and registers what the plugin offers through its own `api`. setup() runs once, at start-up,
 * under a timeout.
 */
export interface Plugin<Schema extends z.ZodType = z.ZodType> {
  manifest: PluginManifest;
  configSchema?: Schema;
  setup(api: PluginApi, options: z.output<Schema>): void | Promise<void>;
}

/** Identity with types: gives a plugin module's default export its shape and its options their type. */
export function definePlugin<Schema extends z.ZodType>(plugin: Plugin<Schema>): Plugin<Schema> {
  return plugin;
}
