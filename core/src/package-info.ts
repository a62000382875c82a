import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginKind, PluginManifest } from './plugin.js';

export interface PackageInfo {
  name: string;
  version: string;
  description?: string;
  peerDependencies?: Record<string, string>;
}

/**
 * Reads the nearest package.json above a module (pass `import.meta.url`), so a plugin's manifest can
 * take its name and version from the one place npm publishes them.
 */
export function readPackageInfo(moduleUrl: string): PackageInfo {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Partial<PackageInfo>;
      if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') throw new Error(`${file} has no name or version`);
      return { name: pkg.name, version: pkg.version, description: pkg.description, peerDependencies: pkg.peerDependencies };
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`No package.json above ${moduleUrl}`);
    dir = up;
  }
}

/**
 * A plugin's manifest from its own package.json: name, version, description, and the range of
 * @waygate/core it supports, which is its peerDependencies entry. One source for what npm installs
 * against and what the loader checks, instead of a range copied into code.
 */
export function pluginManifest(moduleUrl: string, kind: PluginKind): PluginManifest {
  const pkg = readPackageInfo(moduleUrl);
  const core = pkg.peerDependencies?.['@waygate/core'];
  if (!core) throw new Error(`${pkg.name}: package.json has no peerDependencies entry for @waygate/core (the core range the plugin supports)`);
  return { name: pkg.name, version: pkg.version, kind, core, description: pkg.description };
}
