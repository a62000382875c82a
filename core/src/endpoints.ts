import type { Endpoint, Usage } from './types.js';
import type { EndpointAdapter, EndpointDefinition } from './contracts.js';

/**
 * The client-facing API endpoints, by id and by route. The core defines none: endpoint plugins
 * (`@waygate/openai-api`, `@waygate/anthropic-messages`) register their definitions in setup().
 */
export class EndpointRegistry {
  readonly #byId = new Map<string, EndpointDefinition & { plugin: string }>();
  readonly #routes = new Map<string, Map<string, EndpointDefinition>>();
  readonly #bridged = new WeakMap<object, Map<string, EndpointAdapter | null>>();
  #sealed = false;
  #wild = false;

  register(plugin: string, def: EndpointDefinition): void {
    if (this.#sealed) throw new Error('The endpoint registry is sealed: endpoints register in setup(), at start-up');
    const existing = this.#byId.get(def.id);
    if (existing) throw new Error(`Endpoint ${JSON.stringify(def.id)} is already registered by ${existing.plugin}`);
    for (const r of def.routes) {
      const methods = this.#routes.get(r.path) ?? new Map<string, EndpointDefinition>();
      if (methods.has(r.method)) throw new Error(`Route ${r.method} ${r.path} is already served by ${methods.get(r.method)!.id}`);
      methods.set(r.method, def);
      if (r.path.endsWith('/*')) this.#wild = true;
      this.#routes.set(r.path, methods);
    }
    this.#byId.set(def.id, { ...def, plugin });
  }

  get(id: Endpoint): EndpointDefinition | undefined {
    return this.#byId.get(id);
  }

  /** The methods served on a path (undefined: no such route); a route `/a/b/*` serves every path below `/a/b/` (the deepest wins). */
  route(path: string): Map<string, EndpointDefinition> | undefined {
    let found = this.#routes.get(path);
    for (let i = path.lastIndexOf('/'); !found && this.#wild && i > 0; i = path.lastIndexOf('/', i - 1)) found = this.#routes.get(`${path.slice(0, i)}/*`);
    return found;
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }

  seal(): void {
    this.#sealed = true;
  }

  /**
   * The adapter a provider serves an endpoint with: its own, or (when the endpoint has a bridge and
   * the provider serves the bridge's `via` endpoint) the bridged one, made once per provider.
   */
  adapterFor(provider: { id: string; endpoints: Partial<Record<Endpoint, EndpointAdapter>> }, id: Endpoint): EndpointAdapter | undefined {
    const own = provider.endpoints[id];
    if (own) return own;
    const bridge = this.#byId.get(id)?.bridge;
    if (!bridge) return undefined;
    let cache = this.#bridged.get(provider.endpoints);
    if (!cache) this.#bridged.set(provider.endpoints, (cache = new Map()));
    let adapter = cache.get(id);
    if (adapter === undefined) {
      const inner = provider.endpoints[bridge.via];
      adapter = inner ? bridge.wrap(inner, provider.id) : null;
      cache.set(id, adapter);
    }
    return adapter ?? undefined;
  }
}

/** The usage and model of an answer, read the way its endpoint says. */
export function answerUsage(def: EndpointDefinition | undefined, json: unknown): { usage?: Usage; model?: string } | undefined {
  return def?.usage ? def.usage(json) : openAIUsage(json);
}

/** Usage and model of an OpenAI-format answer or chunk. */
export function openAIUsage(json: unknown): { usage?: Usage; model?: string } | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as { usage?: Usage; model?: unknown };
  const usage = o.usage && typeof o.usage === 'object' ? o.usage : undefined;
  const model = typeof o.model === 'string' ? o.model : undefined;
  return usage || model ? { usage, model } : undefined;
}
