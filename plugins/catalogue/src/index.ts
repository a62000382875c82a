import { z } from 'zod';
import { BeforeRequestStage, ConfigNodeSchema, GatewayError, GatewayResponse, definePlugin, pluginManifest } from '@waygate/core';
import type { ConfigNode, PluginApi, RequestContext } from '@waygate/core';
import { principalOf } from '@waygate/auth';
import { ListCache } from './lists.js';
import type { ModelEntry } from './shapes.js';
import { anthropicCaller, anthropicList, anthropicModel, entriesOf, modelNotFound, openAIList } from './shapes.js';

export { entriesOf, anthropicList, openAIList, modelNotFound } from './shapes.js';
export type { ModelEntry } from './shapes.js';

/** The plugin's options (the `options` of its entry in the config file's `plugins`), parsed once at start-up. */
export const OptionsSchema = z.strictObject({
  /** Model names that stand for a routing config: `{"fast": {"provider": "openai", "override_params": {"model": "gpt-4o-mini"}}}`. */
  aliases: z.record(z.string().min(1).max(256), ConfigNodeSchema).default({}),
  /** How long a provider's model list is kept (ms); 0 fetches it on every catalogue request. */
  cacheTtlMs: z.number().int().min(0).default(60_000),
  /** How long one provider's list may take (ms) before that provider is skipped. */
  timeoutMs: z.number().int().positive().default(5_000),
  /** Route `provider/model` ids to their provider when a request names no provider or config. */
  routeByModel: z.boolean().default(true),
});

export type Options = z.output<typeof OptionsSchema>;

const manifest = pluginManifest(import.meta.url, 'endpoint');
const NAME = manifest.name;
/** `GET /v1/models/{id}` (the id may hold slashes: `anthropic/claude-sonnet-4-5`). */
const RETRIEVE = 'models.retrieve';
const RETRIEVE_PREFIX = '/v1/models/';
/** The request headers that name a route: with one of them the caller chose, and the catalogue keeps out. */
const NAMING = ['x-waygate-custom-host', 'x-portkey-custom-host'];
/** A root's keys that choose targets: the rest (retry, cache, guardrails, timeouts) is policy a routed `provider/model` request keeps. */
const ROUTE_KEYS = new Set(['provider', 'targets', 'strategy', 'api_key', 'custom_host', 'override_params', 'name', 'weight']);
const MAX_ROUTED = 1000;

/** A request names its own route: a config or provider header (or a custom host). */
const named = (ctx: RequestContext) => ctx.configSource !== 'file' || NAMING.some((h) => ctx.headers[h] !== undefined);
const bareOf = (id: string) => id.slice(id.indexOf('/') + 1);

/**
 * One model catalogue over every provider the gateway (or the caller's gateway key) reaches:
 * `GET /v1/models` and `GET /v1/models/{id}` with ids `provider/model` and the operator's aliases,
 * and routing by model id (`anthropic/claude-sonnet-4-5`, or an alias) for a request that names no
 * provider or config. Taps `BeforeRequestStage.CONFIG` (after the config is resolved, before any
 * plan); load it before `@waygate/auth`, whose CONFIG tap checks the plan this one decides.
 */
export default definePlugin({
  manifest,
  configSchema: OptionsSchema,
  setup(api, options) {
    const aliases = new Map(Object.entries(options.aliases));
    api.onSeal(() => {
      for (const [name, node] of aliases) checkProviders(api, node, `aliases.${name}`);
    });
    api.register.endpoint({ id: RETRIEVE, routes: [{ method: 'GET', path: `${RETRIEVE_PREFIX}*` }] });

    // The gateway's own credentials per provider (`providers.<slug>` in the config file), as leaves made once.
    const held = new Map(Object.keys(api.config.providers).map((slug): [string, ConfigNode] => [slug, { provider: slug }]));
    const lists = new ListCache(api, options.cacheTtlMs, options.timeoutMs);
    const reach = new WeakMap<ConfigNode, Map<string, ConfigNode>>();
    let reachNone: Map<string, ConfigNode> | undefined;
    const routedNodes = new WeakMap<ConfigNode, Map<string, ConfigNode>>();

    /**
     * The providers a request may reach, each with the leaf it reaches it by: the leaves of its config
     * (a gateway key's own, or the file's routing), and with the file's (or none) the providers the
     * config file holds credentials for. A key's provider rules apply.
     */
    const reachable = (ctx: RequestContext): Map<string, ConfigNode> => {
      const root = ctx.config as ConfigNode | undefined;
      let all = root ? reach.get(root) : reachNone;
      if (!all) {
        all = new Map<string, ConfigNode>();
        if (root) collectLeaves(root, all);
        if (!root || root === api.config.routing) for (const [slug, leaf] of held) if (!all.has(slug)) all.set(slug, leaf);
        for (const slug of [...all.keys()]) if (!api.providers.has(slug)) all.delete(slug);
        if (root) reach.set(root, all);
        else reachNone = all;
      }
      const p = principalOf(ctx);
      if (!p) return all;
      return new Map([...all].filter(([slug]) => p.allows('providers', slug)));
    };

    const visible = (ctx: RequestContext, id: string) => {
      const p = principalOf(ctx);
      return !p || p.allows('models', id) || p.allows('models', bareOf(id));
    };

    /** Everything the caller may use: each reachable provider's list (fetched in parallel, failures skipped) and the aliases. */
    const catalogue = async (ctx: RequestContext): Promise<ModelEntry[]> => {
      const found = await Promise.all([...reachable(ctx)].map(([slug, leaf]) => lists.get(slug, leaf).then((l) => l ?? [])));
      const out: ModelEntry[] = [];
      const seen = new Set<string>();
      for (const m of found.flat()) {
        if (seen.has(m.id) || !visible(ctx, m.id)) continue;
        seen.add(m.id);
        out.push(m);
      }
      for (const name of aliases.keys()) {
        if (seen.has(name) || !visible(ctx, name)) continue;
        seen.add(name);
        out.push({ id: name, object: 'model', created: 0, owned_by: 'waygate' });
      }
      return out;
    };

    /** For a request that names its provider: that provider's own list, through the house with the caller's headers (today's `GET /v1/models`). */
    const namedList = async (ctx: RequestContext): Promise<ModelEntry[] | GatewayResponse> => {
      const headers = { ...ctx.headers };
      delete headers['anthropic-version'];
      delete headers['content-length'];
      const res = await api.subrequest({ endpoint: 'models', path: '/v1/models', headers, body: {}, parent: ctx });
      if (res.status !== 200) return res;
      return entriesOf('', res.body, false) ?? [];
    };

    const retrieve = async (ctx: RequestContext): Promise<GatewayResponse> => {
      const anthropic = anthropicCaller(ctx);
      let id: string;
      try {
        id = decodeURIComponent(ctx.path.slice(RETRIEVE_PREFIX.length));
      } catch {
        throw modelNotFound(anthropic, ctx.path.slice(RETRIEVE_PREFIX.length));
      }
      const entries = named(ctx) ? await namedList(ctx) : await catalogue(ctx);
      if (entries instanceof GatewayResponse) return entries;
      const found = entries.find((m) => m.id === id);
      if (!id || !found) throw modelNotFound(anthropic, id);
      return GatewayResponse.json(200, anthropic ? anthropicModel(found) : found);
    };

    /** The config a `provider/model` request runs under: the leaf that reaches the provider, the model set, the root's policy kept. Made once per (leaf, model), bounded. */
    const routed = (root: ConfigNode | undefined, leaf: ConfigNode, model: string): ConfigNode => {
      let byModel = routedNodes.get(leaf);
      if (!byModel) routedNodes.set(leaf, (byModel = new Map()));
      let node = byModel.get(model);
      if (!node) {
        const policy = root && root !== leaf ? Object.fromEntries(Object.entries(root).filter(([k]) => !ROUTE_KEYS.has(k))) : {};
        node = { ...policy, ...leaf, override_params: { ...leaf.override_params, model } };
        if (byModel.size >= MAX_ROUTED) byModel.delete(byModel.keys().next().value!);
        byModel.set(model, node);
      }
      return node;
    };

    // Undefined at once (no promise made) for what is not the catalogue's: a request that names its route, or no model.
    const concerns = (ctx: RequestContext) =>
      ctx.madeBy !== NAME && (ctx.endpoint === 'models' || ctx.endpoint === RETRIEVE || (typeof ctx.body?.model === 'string' && !named(ctx)));
    api.hooks.beforeRequest.tapPromise(BeforeRequestStage.CONFIG, (ctx) => (concerns(ctx) ? atConfig(ctx) : undefined));
    const atConfig = async (ctx: RequestContext): Promise<GatewayResponse | undefined> => {
      if (ctx.endpoint === 'models') {
        if (named(ctx)) return undefined; // today's behaviour: the named provider's own list
        const entries = await catalogue(ctx);
        return GatewayResponse.json(200, anthropicCaller(ctx) ? anthropicList(entries) : openAIList(entries));
      }
      if (ctx.endpoint === RETRIEVE) return retrieve(ctx);
      const model = ctx.body?.model;
      if (typeof model !== 'string' || named(ctx)) return undefined;
      const alias = aliases.get(model);
      if (alias) {
        checkKey(ctx, alias, 'aliases');
        api.authorize(ctx, { config: alias });
        return undefined;
      }
      const slash = model.indexOf('/');
      if (!options.routeByModel || slash <= 0 || slash === model.length - 1) return undefined;
      const leaf = reachable(ctx).get(model.slice(0, slash));
      if (!leaf) return undefined; // not a provider this caller reaches: the request goes on as it is
      const list = await lists.get(model.slice(0, slash), leaf);
      // An unknown model is a 404 when the provider's list is known; without a list the provider decides.
      if (list && !list.some((m) => m.id === model)) throw modelNotFound(ctx.endpoint.startsWith('messages'), model);
      const node = routed(ctx.config as ConfigNode | undefined, leaf, bareOf(model));
      checkKey(ctx, node, 'model');
      api.authorize(ctx, { config: node });
      ctx.annotate('catalogueModel', model);
      return undefined;
    };
  },
});

/** What a gateway key allows, held against every leaf of the config a model id stands for (as `@waygate/auth` holds a plan). */
function checkKey(ctx: RequestContext, node: ConfigNode, where: string): void {
  const p = principalOf(ctx);
  if (!p?.restrictsTargets) return;
  if (node.provider !== undefined) {
    const model = node.override_params?.model;
    const full = where === 'model' ? ctx.body?.model : undefined; // a `provider/model` id the key allows by its full name
    const modelOk = typeof model !== 'string' || p.allows('models', model) || (typeof full === 'string' && p.allows('models', full));
    if (!p.allows('providers', node.provider) || !modelOk)
      throw new GatewayError('model_not_allowed', 403, `This API key may not use model ${JSON.stringify(ctx.body?.model)}`, {
        type: 'permission_error',
        param: 'model',
      });
  }
  for (const t of node.targets ?? []) checkKey(ctx, { ...t, override_params: { ...node.override_params, ...t.override_params } }, where);
}

/** The first leaf per provider in a routing config, in order. */
function collectLeaves(node: ConfigNode, into: Map<string, ConfigNode>): void {
  if (node.provider !== undefined) {
    if (!into.has(node.provider)) into.set(node.provider, node);
    return;
  }
  for (const t of node.targets ?? []) collectLeaves(t, into);
}

/** Start-up: every provider an alias names is loaded (else start-up stops, naming the alias's path). */
function checkProviders(api: PluginApi, node: ConfigNode, where: string): void {
  if (node.provider !== undefined && !api.providers.has(node.provider)) {
    throw new Error(`${where}.provider: unknown provider ${JSON.stringify(node.provider)} (loaded: ${api.providers.ids().sort().join(', ')})`);
  }
  node.targets?.forEach((t, i) => checkProviders(api, t, `${where}.targets[${i}]`));
}
