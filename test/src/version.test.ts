// One version story: the repository's package.json, @waygate/core's package.json, what the CLI that
// the root's `waygate` bin names prints for --version, and CORE_VERSION (which /health reports).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { CORE_VERSION } from '@waygate/core';

/** The repository's root (this file runs as test/dist/src/version.test.js). */
const ROOT_URL = new URL('../../../', import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);

interface Manifest {
  name: string;
  version: string;
  bin?: Record<string, string>;
}

const manifest = async (rel: string): Promise<Manifest> => JSON.parse(await readFile(new URL(rel, ROOT_URL), 'utf8')) as Manifest;

describe('version', () => {
  it('the root package.json, core/package.json and `waygate --version` agree', async () => {
    const root = await manifest('package.json');
    const core = await manifest('core/package.json');
    expect(root.name).to.equal('waygate');
    expect(core.name).to.equal('@waygate/core');
    // The file the root's `waygate` bin names (core/dist/src/cli.js), so that a move of the CLI is followed.
    const cli = root.bin?.waygate;
    expect(cli, 'the root package.json has a waygate bin').to.be.a('string');

    const { stdout } = await promisify(execFile)(process.execPath, [cli!, '--version'], { cwd: ROOT, timeout: 10_000 });

    expect(stdout.trim()).to.equal(core.version);
    expect(root.version).to.equal(core.version);
    expect(CORE_VERSION).to.equal(core.version);
  });
});
