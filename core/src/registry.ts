import type { TapOwner } from './hooks.js';

/**
 * A registry of named things one plugin offers and others use (guardrail checks, cache backends).
 * Filled in setup(), frozen at seal; each entry remembers the plugin that registered it, and a name
 * registered twice is a start-up error naming both plugins.
 */
export class NamedRegistry<T> {
  readonly #map = new Map<string, { value: T; plugin?: string }>();
  #sealed = false;

  constructor(
    readonly kind: string,
    private readonly owner: TapOwner,
  ) {}

  register(name: string, value: T): void {
    if (this.#sealed) throw new Error(`The ${this.kind} registry is sealed: register in setup(), at start-up`);
    if (typeof name !== 'string' || name.length === 0) throw new Error(`A ${this.kind} needs a non-empty name`);
    const existing = this.#map.get(name);
    if (existing) throw new Error(`${this.kind} ${JSON.stringify(name)} is already registered by ${existing.plugin ?? 'another plugin'}`);
    this.#map.set(name, { value, plugin: this.owner.current });
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
