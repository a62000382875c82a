import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import semver from 'semver';
import type { Kernel } from './kernel.js';
import type { Plugin } from './plugin.js';
import type { PluginEntry } from './config.js';
import { formatIssues } from './config.js';
import { CORE_VERSION } from './version.js';

const KINDS = new Set(['provider', 'guardrail', 'cache', 'strategy', 'policy', 'endpoint', 'observability', 'other']);
const CORE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** A plugin that could not be loaded. Start-up stops: a gateway that silently drops a plugin is worse than one that does not start. */
export class PluginLoadError extends Error {
  override readonly name = 'PluginLoadError';
  constructor(
    readonly plugin: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot load plugin ${plugin}: ${reason}`, options);
  }
}

interface NormalizedEntry {
  module: string;
  options: unknown;
}

function normalize(entry: PluginEntry): NormalizedEntry | undefined {
  if (typeof entry === 'string') return { module: entry, options: undefined };
  if (entry.enabled === false) return undefined;
  return { module: entry.module, options: entry.options };
}

/**
 * Resolves a module specifier from a config: a path (`./x.js`, `/abs/x.js`) relative to the config's
 * directory, or a package name looked up from that directory and then from the core's own location
 * (so the bundled plugins resolve wherever the config file lives).
 */
export function resolveSpecifier(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  if (spec.startsWith('file:')) return spec;
  const errors: string[] = [];
  for (const from of [baseDir, CORE_DIR]) {
    try {
      return pathToFileURL(createRequire(path.join(from, 'noop.js')).resolve(spec)).href;
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0]!);
    }
  }
  throw new Error(`module not found from ${baseDir} (${errors[0]})`);
}

/** Loads, checks and sets up each plugin in order. Throws PluginLoadError naming the plugin and why. */
export async function loadPlugins(kernel: Kernel, entries: PluginEntry[], baseDir: string, setupTimeoutMs: number): Promise<void> {
  const seen = new Map<string, string>();
  for (const raw of entries) {
    const entry = normalize(raw);
    if (!entry) continue;
    let url: string;
    try {
      url = resolveSpecifier(entry.module, baseDir);
    } catch (err) {
      throw new PluginLoadError(entry.module, (err as Error).message, { cause: err });
    }
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new PluginLoadError(entry.module, `import failed: ${(err as Error).message}`, { cause: err });
    }
    const plugin = checkShape(entry.module, mod.default);
    const name = plugin.manifest.name;
    if (seen.has(name)) throw new PluginLoadError(name, `loaded twice (from ${seen.get(name)} and ${entry.module})`);
    seen.set(name, entry.module);

    if (!semver.validRange(plugin.manifest.core))
      throw new PluginLoadError(name, `manifest.core ${JSON.stringify(plugin.manifest.core)} is not a semver range`);
    if (!semver.satisfies(CORE_VERSION, plugin.manifest.core, { includePrerelease: true })) {
      throw new PluginLoadError(name, `it requires @waygate/core ${plugin.manifest.core}, but this gateway runs @waygate/core ${CORE_VERSION}`);
    }

    let options: unknown = entry.options;
    if (plugin.configSchema) {
      const parsed = plugin.configSchema.safeParse(entry.options ?? {});
      if (!parsed.success) throw new PluginLoadError(name, `invalid options: ${formatIssues(parsed.error, 'options')}`);
      options = parsed.data;
    }

    try {
      const api = kernel.apiFor(name);
      await withTimeout(
        Promise.resolve().then(() => plugin.setup(api, options)),
        setupTimeoutMs,
        () => new PluginLoadError(name, `setup() did not finish within ${setupTimeoutMs} ms`),
      );
    } catch (err) {
      if (err instanceof PluginLoadError) throw err;
      throw new PluginLoadError(name, `setup() failed: ${(err as Error).message}`, { cause: err });
    }
    kernel.plugins.push({ name, version: plugin.manifest.version, kind: plugin.manifest.kind, module: entry.module });
  }
}

function checkShape(spec: string, value: unknown): Plugin {
  const fail = (why: string) => new PluginLoadError(spec, `its default export ${why}`);
  if (!value || typeof value !== 'object') throw fail('is not a plugin object (use definePlugin)');
  const p = value as Partial<Plugin>;
  const m = p.manifest as unknown as Record<string, unknown> | undefined;
  if (!m || typeof m !== 'object') throw fail('has no manifest');
  for (const key of ['name', 'version', 'kind', 'core'] as const)
    if (typeof m[key] !== 'string' || !(m[key] as string).length) throw fail(`has no manifest.${key}`);
  if (!semver.valid(m.version as string)) throw fail(`has manifest.version ${JSON.stringify(m.version)}, which is not semver`);
  if (!KINDS.has(m.kind as string)) throw fail(`has unknown manifest.kind ${JSON.stringify(m.kind)} (one of ${[...KINDS].join(', ')})`);
  if (typeof p.setup !== 'function') throw fail('has no setup() function');
  if (p.configSchema !== undefined && typeof (p.configSchema as { safeParse?: unknown }).safeParse !== 'function')
    throw fail('has a configSchema that is not a zod schema');
  return p as Plugin;
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => void (timer = setTimeout(() => reject(onTimeout()), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
