/**
 * A registry of named things: the providers and endpoints the kernel calls, and the kinds plugins
 * offer each other (guardrail checks, cache backends). Filled in setup(), sealed at start-up; each
 * entry remembers the plugin that registered it, and a name registered twice is a start-up error
 * naming both plugins.
 */
export class NamedRegistry<T> {
  readonly #map = new Map<string, { value: T; plugin: string; replaceable?: boolean }>();
  #sealed = false;

  constructor(readonly kind: string) {}

  /**
   * Registers a name for `plugin`. `replaceable` marks a default (say, the in-memory cache) that a
   * later registration of the same name (the Redis cache the config file loads) takes over silently.
   */
  register(plugin: string, name: string, value: T, opts: { replaceable?: boolean } = {}): void {
    if (this.#sealed) throw new Error(`The ${this.kind} registry is sealed: register in setup(), at start-up`);
    if (typeof name !== 'string' || name.length === 0) throw new Error(`A ${this.kind} needs a non-empty name`);
    const existing = this.#map.get(name);
    if (existing && !existing.replaceable) throw new Error(`${this.kind} ${JSON.stringify(name)} is already registered by ${existing.plugin}`);
    this.#map.set(name, { value, plugin, replaceable: opts.replaceable });
  }

  get(name: string): T | undefined {
    return this.#map.get(name)?.value;
  }

  has(name: string): boolean {
    return this.#map.has(name);
  }

  /** The plugin that registered a name. */
  pluginOf(name: string): string | undefined {
    return this.#map.get(name)?.plugin;
  }

  names(): string[] {
    return [...this.#map.keys()];
  }

  seal(): void {
    this.#sealed = true;
  }
}

/** A named registry as one plugin sees it: its registrations are attributed to that plugin. */
export interface PluginRegistry<T> {
  readonly kind: string;
  register(name: string, value: T, opts?: { replaceable?: boolean }): void;
  get(name: string): T | undefined;
  has(name: string): boolean;
  pluginOf(name: string): string | undefined;
  names(): string[];
}

export function registryView<T>(registry: NamedRegistry<T>, plugin: string): PluginRegistry<T> {
  return Object.freeze({
    kind: registry.kind,
    register: (name: string, value: T, opts?: { replaceable?: boolean }) => registry.register(plugin, name, value, opts),
    get: (name: string) => registry.get(name),
    has: (name: string) => registry.has(name),
    pluginOf: (name: string) => registry.pluginOf(name),
    names: () => registry.names(),
  });
}
