import { expect } from 'chai';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pluginManifest } from '../src/package-info.js';

function pkgDir(pkg: object): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'waygate-pkg-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  mkdirSync(path.join(dir, 'dist', 'src'), { recursive: true });
  return pathToFileURL(path.join(dir, 'dist', 'src', 'index.js')).href;
}

describe('pluginManifest', () => {
  it('takes name, version, description and the core range (the peerDependencies entry) from the nearest package.json', () => {
    const url = pkgDir({ name: 'acme-plugin', version: '2.1.0', description: 'd', peerDependencies: { '@waygate/core': '^1.2.0' } });
    expect(pluginManifest(url, 'guardrail')).to.deep.equal({ name: 'acme-plugin', version: '2.1.0', kind: 'guardrail', core: '^1.2.0', description: 'd' });
  });

  it('refuses a package that declares no @waygate/core peer range', () => {
    const url = pkgDir({ name: 'acme-plugin', version: '2.1.0' });
    expect(() => pluginManifest(url, 'other')).to.throw(/acme-plugin: package\.json has no peerDependencies entry for @waygate\/core/);
  });
});
