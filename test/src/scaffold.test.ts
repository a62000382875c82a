// The scaffold (`npm run new`, test/scaffold/new.mjs): what it refuses, its dry run, and for each kind a
// package made inside the repository under a throwaway name, type-checked and built with `tsc -p`, whose
// own generated tests then run in a child mocha and must pass. The folders and their root tsconfig.json
// references are removed afterwards, whatever happened.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from test/dist/src. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'test', 'scaffold', 'new.mjs');
const TSCONFIG = path.join(ROOT, 'tsconfig.json');
const require = createRequire(import.meta.url);
const binOf = (pkg: string, bin: string): string =>
  path.join(path.dirname(require.resolve(`${pkg}/package.json`)), require(`${pkg}/package.json`).bin[bin]);
const TSC = binOf('typescript', 'tsc');
const MOCHA = binOf('mocha', 'mocha');

/** Throwaway package names start with this; a folder left by a run that was killed is removed by the next. */
const PREFIX = 'zz-scaffold-';
const FOLDERS = { provider: 'providers', guardrail: 'guardrails', plugin: 'plugins' } as const;
type Kind = keyof typeof FOLDERS;
const KINDS = Object.keys(FOLDERS) as Kind[];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` from the repository root; resolves with its exit code and output (killed after `timeoutMs`). */
function node(args: string[], timeoutMs = 150_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const scaffold = (...args: string[]) => node([SCRIPT, ...args]);
const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

function references(): string[] {
  return (JSON.parse(readFileSync(TSCONFIG, 'utf8')).references as Array<{ path: string }>).map((r) => r.path);
}

/** The root tsconfig.json's text without the reference to `dir`, the rest of it byte for byte as it was. */
function withoutReference(text: string, dir: string): string {
  const m = new RegExp(`\\{\\s*"path"\\s*:\\s*"${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*\\}`).exec(text);
  if (!m) return text;
  const before = text.slice(0, m.index);
  const after = text.slice(m.index + m[0].length);
  const lead = /,\s*$/.exec(before);
  if (lead) return before.slice(0, lead.index) + after;
  const trail = /^\s*,\s*/.exec(after);
  return before + (trail ? after.slice(trail[0].length) : after);
}

/** Removes throwaway packages and their references from the root tsconfig.json. */
function removeThrowaways(dirs: string[]): void {
  for (const dir of dirs) rmSync(path.join(ROOT, dir), { recursive: true, force: true });
  const text = readFileSync(TSCONFIG, 'utf8');
  let next = dirs.reduce(withoutReference, text);
  const left = (JSON.parse(next).references as Array<{ path: string }>).filter((r) => dirs.includes(r.path));
  if (left.length > 0) {
    // Laid out in a way the text edit did not recognise: drop them from the parsed file instead.
    const config = JSON.parse(next);
    config.references = config.references.filter((r: { path: string }) => !dirs.includes(r.path));
    next = `${JSON.stringify(config, null, 2)}\n`;
  }
  if (next !== text) writeFileSync(TSCONFIG, next);
}

/** Throwaway folders a killed run left behind (older than ten minutes, so a run going on beside this one keeps its own). */
function leftovers(): string[] {
  const found: string[] = [];
  for (const folder of Object.values(FOLDERS)) {
    for (const name of readdirSync(path.join(ROOT, folder))) {
      const dir = `${folder}/${name}`;
      if (name.startsWith(PREFIX) && Date.now() - statSync(path.join(ROOT, dir)).mtimeMs > 600_000) found.push(dir);
    }
  }
  return [...found, ...references().filter((r) => r.split('/')[1]?.startsWith(PREFIX) && !existsSync(path.join(ROOT, r)))];
}

/** A build's result must be a clean exit. */
function assertBuilt(r: Run | undefined): void {
  expect(r, 'not built: the scaffold failed').to.not.equal(undefined);
  expect(r!.code, show(r!)).to.equal(0);
}

/** A child mocha's JSON report must say that every test ran and passed, and there were a few. */
function assertPassed(r: Run | undefined): void {
  expect(r, 'not run: the package did not build').to.not.equal(undefined);
  let stats: { tests: number; passes: number; failures: number; pending: number };
  try {
    stats = JSON.parse(r!.stdout).stats;
  } catch {
    throw new Error(`mocha gave no JSON report: ${show(r!)}`);
  }
  expect(stats.failures, show(r!)).to.equal(0);
  expect(stats.pending).to.equal(0);
  expect(stats.passes).to.equal(stats.tests).and.to.be.greaterThan(3);
  expect(r!.code, show(r!)).to.equal(0);
}

const tscP = (dir: string) => node([TSC, '-p', dir]);
const mochaIn = (dir: string) => node([MOCHA, '--no-config', '--reporter', 'json', '--timeout', '20000', '--exit', `${dir}/dist/test/**/*.test.js`]);

describe('the scaffold (npm run new)', function () {
  // Four type-checks and four child mocha runs, in parallel where they can be: about 15 s of wall time on an idle
  // two-core machine (~25 s of CPU), much more when other suites share the machine.
  this.timeout(180_000);
  const tag = randomBytes(3).toString('hex');
  const nameOf = (kind: Kind) => `${PREFIX}${kind}-${tag}`;
  const dirOf = (kind: Kind) => `${FOLDERS[kind]}/${nameOf(kind)}`;
  const dryName = `${PREFIX}dry-${tag}`;
  let originalTsconfig = '';

  before(() => {
    removeThrowaways(leftovers());
    originalTsconfig = readFileSync(TSCONFIG, 'utf8');
  });
  after(() => {
    const dirs = [...KINDS.map(dirOf), `guardrails/${dryName}`];
    removeThrowaways(dirs);
    for (const dir of dirs) expect(existsSync(path.join(ROOT, dir)), dir).to.equal(false);
    expect(readFileSync(TSCONFIG, 'utf8'), 'the root tsconfig.json is back as it was').to.equal(originalTsconfig);
  });

  it('refuses an invalid name, an unknown kind, a bad option or an existing folder with exit code 2, writing nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['provider', 'Acme'], /invalid name "Acme"/],
      [['provider', 'acme_llm'], /invalid name "acme_llm"/],
      [['guardrail', '-acme'], /unknown option -acme/],
      [['plugin', 'acme--x'], /invalid name "acme--x"/],
      [['plugin', 'provider-acme'], /npm run new -- provider acme/],
      [['strategy', 'acme'], /unknown kind "strategy"/],
      [['provider'], /name a kind and a package name/],
      [['provider', 'acme', '--force'], /unknown option --force/],
      [['provider', 'openai'], /providers\/openai exists already/],
      [['plugin', 'guardrails'], /plugins\/guardrails exists already/],
    ];
    const runs = await Promise.all(cases.map(([args]) => scaffold(...args)));
    runs.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, `${args.join(' ')}: ${show(r)}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(message);
    });
    expect(readFileSync(TSCONFIG, 'utf8')).to.equal(originalTsconfig);
    expect(existsSync(path.join(ROOT, 'providers', 'acme'))).to.equal(false);
  });

  it('--dry-run, through the root script, prints every file and writes nothing', async () => {
    const name = dryName;
    const r = await new Promise<Run>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'new', '--', 'guardrail', name, '--dry-run'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code, show(r)).to.equal(0);
    for (const file of ['package.json', 'tsconfig.json', 'README.md', 'CHANGELOG.md', 'src/index.ts', 'src/checks.ts', `test/${name}.test.ts`]) {
      expect(r.stdout).to.include(`--- guardrails/${name}/${file}\n`);
    }
    expect(r.stdout).to.include(`registerChecks(api, NAMESPACE`).and.include(`"name": "@waygate/guardrail-${name}"`).and.include('nothing written');
    expect(existsSync(path.join(ROOT, 'guardrails', name))).to.equal(false);
    expect(readFileSync(TSCONFIG, 'utf8')).to.equal(originalTsconfig);
  });

  describe('a package of each kind', () => {
    const made = new Map<Kind, Run>();
    const built = new Map<Kind, Run>();
    const tested = new Map<Kind, Run>();

    before(async () => {
      for (const kind of KINDS) made.set(kind, await scaffold(kind, nameOf(kind)));
      // `tsc -p`, not `-b`: the core and @waygate/guardrails are built already, and are not to be rebuilt here.
      await Promise.all(KINDS.filter((k) => made.get(k)!.code === 0).map(async (k) => built.set(k, await tscP(dirOf(k)))));
      await Promise.all(KINDS.filter((k) => built.get(k)?.code === 0).map(async (k) => tested.set(k, await mochaIn(dirOf(k)))));
    });

    for (const kind of KINDS) {
      describe(kind, () => {
        it('is made in the house shape and referenced from the root tsconfig.json', () => {
          const r = made.get(kind)!;
          expect(r.code, show(r)).to.equal(0);
          const dir = dirOf(kind);
          const files = ['package.json', 'tsconfig.json', 'README.md', 'CHANGELOG.md', 'src/index.ts', `test/${nameOf(kind)}.test.ts`];
          if (kind === 'provider') files.push('src/adapter.ts', 'src/request.ts');
          for (const file of files) expect(existsSync(path.join(ROOT, dir, file)), file).to.equal(true);
          expect(r.stdout).to.include(`${dir}/src/index.ts`).and.include('npm install').and.include('npm test');
          const pkg = JSON.parse(readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8'));
          expect(pkg).to.include({ version: '0.1.0', type: 'module' });
          expect(pkg.peerDependencies).to.deep.equal({ '@waygate/core': '^1.0.0' });
          if (kind === 'guardrail') expect(pkg.dependencies).to.have.property('@waygate/guardrails');
          expect(references()).to.include(dir);
          // Every other reference is where it was.
          expect(references().filter((p) => !p.includes(tag))).to.deep.equal(JSON.parse(originalTsconfig).references.map((x: { path: string }) => x.path));
        });

        it('type-checks and builds with tsc -p', () => {
          assertBuilt(built.get(kind));
          expect(existsSync(path.join(ROOT, dirOf(kind), 'dist', 'src', 'index.js'))).to.equal(true);
        });

        it('passes its own generated tests, run by mocha in a child process', () => {
          assertPassed(tested.get(kind));
        });
      });
    }

    describe('the checks above', () => {
      it('would notice a package that does not build, or whose tests fail', async () => {
        // The plugin made above, broken twice: its tap no longer sets the header (in the built file, so
        // only the tests can tell), and a type error in its source.
        const dir = dirOf('plugin');
        const js = path.join(ROOT, dir, 'dist', 'src', 'index.js');
        const tap = 'ctx.responseHeaders[header] = value;';
        expect(readFileSync(js, 'utf8')).to.include(tap);
        writeFileSync(js, readFileSync(js, 'utf8').replace(tap, ''));
        writeFileSync(path.join(ROOT, dir, 'src', 'broken.ts'), "export const n: number = 'not a number';\n");
        const [tests, build] = await Promise.all([mochaIn(dir), node([TSC, '-p', dir, '--noEmit'])]);
        expect(() => assertPassed(tests)).to.throw();
        expect(tests.stdout).to.include('adds the header from its options to a routed answer');
        expect(() => assertBuilt(build)).to.throw();
        expect(build.stdout).to.include('broken.ts').and.include('TS2322');
      });
    });
  });
});
