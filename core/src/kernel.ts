import type { Logger } from 'pino';
import type { FileConfig, LoadedConfig } from './config.js';
import type { EndpointDefinition, ProviderAdapter } from './contracts.js';
import type { PluginApi, RouteHandler, SubRequestInit } from './plugin.js';
import type { PluginRegistry } from './registry.js';
import type { AvailabilityCheck } from './routing.js';
import type { ConfigNode, RoutePlan } from './types.js';
import type { Hooks } from './hooks.js';
import { RequestContext, RequestSlot, own } from './context.js';
import { createHooks, pluginHooks, sealHooks, BeforeRequestStage, OnErrorStage } from './hooks.js';
import { GatewayResponse } from './response.js';
import { ErrorCode, GatewayError, badRequest } from './errors.js';
import { UpstreamClient } from './upstream.js';
import { EndpointRegistry } from './endpoints.js';
import { NamedRegistry, registryView } from './registry.js';
import { planRoute, unknownProvider, unknownStrategy } from './routing.js';
import { EgressPolicy, checkCustomHost } from './egress.js';
import { missingProvider, resolveRequestConfig } from './request-config.js';
import { route } from './dispatch.js';
import { CORE_VERSION } from './version.js';

const CORE = '@waygate/core';
const { AUTH, CONFIG } = BeforeRequestStage;
const PROVIDER_ID = /^[a-z0-9][a-z0-9._-]*$/;

export interface LoadedPluginInfo {
  name: string;
  version: string;
  kind: string;
  module: string;
}

/**
 * The microkernel. It owns the request life cycle and all I/O (sockets, timeouts, abort, the attempt
 * loop); plugins shape each step through the four hooks, each through its own `PluginApi` view, and
 * provider adapters describe upstream requests without doing I/O themselves. The kernel knows no
 * plugin by name: which plugins load is the config's (and the CLI's) business.
 */
export class Kernel {
  readonly version = CORE_VERSION;
  readonly hooks: Hooks;
  readonly providers = new NamedRegistry<ProviderAdapter>('provider');
  /** The client-facing API endpoints and their wire formats, as endpoint plugins registered them. */
  readonly endpoints = new EndpointRegistry();
  /** Checks every leaf target must pass to be planned (circuit breakers). */
  readonly availability: AvailabilityCheck[] = [];
  readonly logger: Logger;
  readonly config: FileConfig;
  readonly configVersion: string;
  readonly baseDir: string;
  readonly upstream: UpstreamClient;
  /** Where requests a caller steers may go (custom hosts, plugins' call-outs). */
  readonly egress: EgressPolicy;
  readonly plugins: LoadedPluginInfo[] = [];
  /** Non-LLM HTTP routes plugins serve (an admin API), by path prefix; the endpoints' routes come first. */
  readonly routes: Array<{ prefix: string; handler: RouteHandler }> = [];
  /** Set by the gateway that serves this kernel: what `api.reload()` does. */
  reloader?: () => Promise<string>;
  readonly #named = new Map<string, NamedRegistry<unknown>>();
  readonly #configChecks: Array<(node: ConfigNode, path: string) => void> = [];
  readonly #closers: Array<() => unknown> = [];
  readonly #onSeal: Array<() => void> = [];
  routesAtConfig = false;
  readonly #granted = new WeakSet<ConfigNode>();
  #sealed = false;
  #configAtStage = false;
  #subrequests = 0;

  /** `listenHost` (default: the config's server.host) sets the egress policy's default. */
  constructor(loaded: LoadedConfig, logger: Logger, listenHost?: string) {
    this.config = loaded.config;
    this.configVersion = loaded.version;
    this.baseDir = loaded.baseDir;
    this.logger = logger;
    this.hooks = createHooks();
    this.egress = new EgressPolicy(loaded.config.egress, listenHost ?? loaded.config.server.host);
    this.upstream = new UpstreamClient(loaded.config.upstream, this.egress);
    // The core's own default: an attempt that no policy claims fails. Any plugin can answer first.
    pluginHooks(this.hooks, CORE).onError.tap(OnErrorStage.CORE_DEFAULT, () => ({ action: 'fail' }));
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /** The registry of one kind of named thing plugins offer each other (`checks`, `caches`, ...). */
  registry<T>(kind: string): NamedRegistry<T> {
    let r = this.#named.get(kind);
    if (!r) {
      if (this.#sealed) throw new Error(`No plugin registered any ${kind}`);
      this.#named.set(kind, (r = new NamedRegistry(kind)));
    }
    return r as NamedRegistry<T>;
  }

  /** The view of the kernel that one plugin's setup() gets (see PluginApi). */
  apiFor(plugin: string): PluginApi {
    const notSealed = (what: string) => {
      if (this.#sealed) throw new Error(`${plugin}: the kernel is sealed: ${what} in setup(), at start-up`);
    };
    const isSealed = () => this.#sealed;
    // A registration that only setup() may make.
    const whileOpen =
      <A>(what: string, fn: (arg: A) => unknown) =>
      (arg: A): void => {
        notSealed(what);
        fn(arg);
      };
    const api: PluginApi = {
      name: plugin,
      coreVersion: CORE_VERSION,
      hooks: pluginHooks(this.hooks, plugin),
      register: Object.freeze({
        provider: (adapter: ProviderAdapter) => {
          if (!adapter || typeof adapter.id !== 'string' || !PROVIDER_ID.test(adapter.id)) {
            throw new Error(`A provider adapter needs an id of lower-case letters, digits, ".", "_" or "-" (got ${JSON.stringify(adapter?.id)})`);
          }
          this.providers.register(plugin, adapter.id, adapter);
        },
        endpoint: whileOpen('endpoints register', (definition: EndpointDefinition) => this.endpoints.register(plugin, definition)),
        availabilityCheck: whileOpen('availability checks are added', (check: AvailabilityCheck) => this.availability.push(check)),
        route: (prefix: string, handler: RouteHandler) => {
          notSealed('routes are added');
          if (!/^\/[\w.-]+$/.test(prefix) || this.routes.some((r) => r.prefix === prefix)) throw new Error(`Route prefix ${prefix} is invalid or taken`);
          this.routes.push({ prefix, handler });
        },
      }),
      registry: <T>(kind: string): PluginRegistry<T> => registryView(this.registry<T>(kind), plugin),
      providers: Object.freeze({ get: (id) => this.providers.get(id), has: (id) => this.providers.has(id), ids: () => this.providers.names() }),
      endpoints: Object.freeze({ get: (id) => this.endpoints.get(id), adapterFor: (p, id) => this.endpoints.adapterFor(p, id) }),
      config: this.config,
      logger: this.logger.child({ plugin }),
      upstream: this.upstream,
      egress: this.egress,
      get sealed() {
        return isSealed();
      },
      addConfigCheck: whileOpen('config checks are added', (check: (node: ConfigNode, path: string) => void) => this.#configChecks.push(check)),
      onSeal: whileOpen('onSeal() is called', (fn: () => void) => this.#onSeal.push(fn)),
      onClose: (fn) => void this.#closers.push(fn),
      plan: (ctx) => this.plan(ctx),
      authorize: (ctx, grant) => {
        for (const name of grant.withhold ?? []) delete ctx.headers[name];
        if (grant.config) {
          // Checked like a config header's, once per distinct object.
          if (!this.#granted.has(grant.config)) this.checkConfig(grant.config, 'config');
          this.#granted.add(grant.config);
          own(ctx).config = grant.config;
          own(ctx).plan = undefined; // a plan made from the config it replaces (a CONFIG tap given a route) is made again
          if (grant.config.deadline !== undefined && ctx.deadlineAt === undefined) own(ctx).deadlineAt = ctx.t0 + grant.config.deadline;
        }
        if (grant.metadata) own(ctx).metadata = { ...grant.metadata };
      },
      reload: () => (this.reloader ? this.reloader() : Promise.reject(new Error('This kernel is not served by a gateway that reloads'))),
      endpointOf: (ctx) => this.endpointOf(ctx),
      errorResponse: (err, ctx) => this.errorResponse(err, ctx),
      subrequest: (init) => this.#subrequest(plugin, init),
      requestState: <T>() => new RequestSlot<T>(plugin),
    };
    return Object.freeze(api);
  }

  /** Ends start-up: no more taps or registrations; the file's routing config is checked against what loaded. */
  seal(): void {
    for (const fn of this.#onSeal.splice(0)) fn();
    // With a plugin at AUTH (which may grant a virtual key's own config), the config is resolved after it,
    // just before CONFIG (so before every plugin's tap there: they may plan). By stage, not tapable's
    // `before`, which names a plugin: one that also taps a later stage would be passed at that tap.
    this.#configAtStage = this.hooks.beforeRequest.taps.some((t) => t.stage === AUTH);
    if (this.#configAtStage) this.hooks.beforeRequest.tap({ name: CORE, stage: CONFIG - 1 }, (ctx) => void resolveRequestConfig(ctx, this));
    // A plugin at CONFIG may give a request that names no route its config (api.authorize); after them, none left is the 400.
    this.routesAtConfig = this.hooks.beforeRequest.taps.some((t) => t.stage === CONFIG && t.name !== CORE);
    if (this.routesAtConfig) this.hooks.beforeRequest.tap({ name: CORE, stage: CONFIG + 1 }, (ctx) => void (ctx.config ?? this.plan(ctx)));
    if (this.config.routing) this.checkConfig(this.config.routing, 'routing', true);
    sealHooks(this.hooks);
    this.providers.seal();
    this.endpoints.seal();
    for (const r of this.#named.values()) r.seal();
    this.#sealed = true;
  }

  /**
   * Checks a routing config against what loaded: every provider it names is loaded, every custom host
   * allowed (by the egress policy unless `trusted`: the config file's), every strategy tapped, and
   * every plugin's config check passes. Throws a 400 that lists every problem found, each naming its
   * path (the first one's path is the error's `param`).
   */
  checkConfig(node: ConfigNode, where: string, trusted = false, problems?: GatewayError[]): void {
    const found = problems ?? [];
    const check = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        found.push(GatewayError.from(err));
      }
    };
    if (node.provider !== undefined && !this.providers.has(node.provider)) found.push(unknownProvider(this.providers, node.provider, `${where}.provider`));
    if (node.custom_host !== undefined)
      check(() => (node.custom_host = (trusted ? checkCustomHost : this.egress.check)(node.custom_host!, `${where}.custom_host`)));
    if (node.targets && !this.hooks.selectTarget.get(node.strategy!.mode)?.taps.length) found.push(unknownStrategy(this, node.strategy!.mode, where));
    for (const c of this.#configChecks) check(() => c(node, where));
    if (node.targets) for (let i = 0; i < node.targets.length; i++) this.checkConfig(node.targets[i]!, `${where}.targets[${i}]`, trusted, found);
    if (problems || !found.length) return;
    throw found.length === 1 ? found[0] : badRequest(ErrorCode.INVALID_CONFIG, found.map((e) => e.message).join('; '), found[0]!.param ?? undefined);
  }

  /**
   * The request's route plan, made once: by the attempt loop, or earlier by a beforeRequest plugin
   * that needs to know the targets (a cache keyed by target, a guardrail set on a target). Either
   * way the strategies run once per request.
   */
  plan(ctx: RequestContext): RoutePlan {
    if (ctx.plan) return ctx.plan;
    if (!ctx.config) throw missingProvider();
    const targets = planRoute(this, ctx);
    if (targets.length === 0) throw badRequest(ErrorCode.INVALID_CONFIG, 'The routing config selected no target for this request');
    const plan = { targets };
    own(ctx).plan = plan;
    return plan;
  }

  /** The definition of the endpoint a request is for. */
  endpointOf(ctx: RequestContext): EndpointDefinition | undefined {
    return this.endpoints.get(ctx.endpoint);
  }

  async close(): Promise<void> {
    for (const fn of this.#closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'a plugin failed to close cleanly');
      }
    }
    await Promise.all([this.upstream.close(), this.egress.dispatcher.close()]);
  }

  /** Runs one request through the house and returns the response to write. Never throws. */
  async handle(ctx: RequestContext): Promise<GatewayResponse> {
    let res: GatewayResponse;
    try {
      if (!this.#configAtStage) resolveRequestConfig(ctx, this);
      const early = this.hooks.beforeRequest.taps.length ? await this.hooks.beforeRequest.promise(ctx) : undefined;
      res = early ?? (await route(this, ctx));
    } catch (err) {
      res = this.errorResponse(GatewayError.from(err), ctx);
    }
    if (this.hooks.afterResponse.taps.length) {
      try {
        res = await this.hooks.afterResponse.promise(res, ctx);
      } catch (err) {
        res = this.errorResponse(GatewayError.from(err), ctx);
      }
    }
    return res;
  }

  /** A response for an error raised by the kernel or a plugin, in the shape of the request's API. */
  errorResponse(err: GatewayError, ctx?: RequestContext): GatewayResponse {
    return errorResponse(err, ctx ? this.endpointOf(ctx) : undefined);
  }

  async #subrequest(plugin: string, init: SubRequestInit): Promise<GatewayResponse> {
    const parent = init.parent;
    const ctx = new RequestContext({
      id: `${parent?.id ?? plugin}:sub${++this.#subrequests}`,
      traceId: parent?.traceId,
      endpoint: init.endpoint,
      method: 'POST',
      path: init.path,
      headers: init.headers,
      body: init.body,
      parent,
      madeBy: plugin,
    });
    if (!parent) return this.handle(ctx);
    if (parent.aborted) ctx.abort(parent.abortEmitter.reason);
    const onAbort = (reason: unknown) => ctx.abort(reason);
    parent.abortEmitter.once('abort', onAbort);
    try {
      return await this.handle(ctx);
    } finally {
      parent.abortEmitter.removeListener('abort', onAbort);
    }
  }
}

/** An error as a response in the shape of an endpoint's API (OpenAI's when it has none). */
export function errorResponse(err: GatewayError, def?: EndpointDefinition): GatewayResponse {
  const body = def?.errorBody ? def.errorBody(err) : err.toBody();
  return GatewayResponse.json(err.status, body, err.headers ? { ...err.headers } : {}, 'error');
}
