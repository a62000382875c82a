import type { z } from 'zod';
import type { Kernel } from './kernel.js';

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

/**
 * A Waygate plugin: a manifest, an optional zod schema for its options, and setup(), which taps the
 * kernel's hooks and registers providers. setup() runs once, at start-up, under a timeout.
 */
export interface Plugin<Schema extends z.ZodType = z.ZodType> {
  manifest: PluginManifest;
  configSchema?: Schema;
  setup(kernel: Kernel, config: z.output<Schema>): void | Promise<void>;
}

/** Identity with types: gives a plugin module's default export its shape and its options their type. */
export function definePlugin<Schema extends z.ZodType>(plugin: Plugin<Schema>): Plugin<Schema> {
  return plugin;
}
