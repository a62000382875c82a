import type { TapOwner } from './hooks.js';

/**
 * A registry of named things one plugin offers and others use (guardrail checks, cache backends).
 * Filled in setup(), frozen at seal; each entry remembers the plugin that registered it, and a name
 * registered twice is a start-up error naming both plugins.
 */
export class NamedRegistry<T> {
  readonly #map = new Map<string, { value: T; plugin?: string; replaceable?: boolean }>();
  #sealed = false;

  constructor(
    readonly kind: string,
    private readonly owner: TapOwner,
  ) {}

  /**
   * Registers a name. `replaceable` marks a default (say, the in-memory cache) that a later
   * registration of the same name (the Redis cache the config file loads) takes over silently.
   */
  register(name: string, value: T, opts: { replaceable?: boolean } = {}): void {
    if (this.#sealed) throw new Error(`The ${this.kind} registry is sealed: register in setup(), at start-up`);
    if (typeof name !== 'string' || name.length === 0) throw new Error(`A ${this.kind} needs a non-empty name`);
    const existing = this.#map.get(name);
    if (existing && !existing.replaceable) {
      throw new Error(`${this.kind} ${JSON.stringify(name)} is already registered by ${existing.plugin ?? 'another plugin'}`);
    }
    this.#map.set(name, { value, plugin: this.owner.current, replaceable: opts.replaceable });
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
