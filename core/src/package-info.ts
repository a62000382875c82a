import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  name: string;
  version: string;
  description?: string;
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
      if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') {
        throw new Error(`${file} has no name or version`);
      }
      return { name: pkg.name, version: pkg.version, description: pkg.description };
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`No package.json above ${moduleUrl}`);
    dir = up;
  }
}
