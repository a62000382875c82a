// The scaffold: makes a new package in the house shape, so that a newcomer starts from a working,
// tested package instead of a copy of one.
//
//   npm run new -- provider <name>     providers/<name>   @waygate/provider-<name>
//   npm run new -- guardrail <name>    guardrails/<name>  @waygate/guardrail-<name>
//   npm run new -- plugin <name>       plugins/<name>     @waygate/<name>
//   add --dry-run to print the files without writing anything
//
// The files come from templates/<kind>/ (and templates/common/), where `{{key}}` stands for a value
// worked out here; package.json and tsconfig.json are written here. The package is added to the root
// tsconfig.json's references, in its group, in name order, the rest of that file left as it was.
// Exit codes: 0 made (or printed), 2 refused (usage, an invalid name, a folder or a package name that
// exists), 1 anything else.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const TEMPLATES = path.join(HERE, 'templates');

const KINDS = {
  provider: { folder: 'providers', packageName: (n) => `@waygate/provider-${n}` },
  guardrail: { folder: 'guardrails', packageName: (n) => `@waygate/guardrail-${n}` },
  plugin: { folder: 'plugins', packageName: (n) => `@waygate/${n}` },
};

/** The order of the groups in the root tsconfig.json's references. */
const REFERENCE_GROUPS = ['core', 'providers', 'plugins', 'guardrails', 'test'];

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_NAME = 50;

const USAGE = `Usage: npm run new -- <provider|guardrail|plugin> <name> [--dry-run]

  provider <name>    providers/<name>, package @waygate/provider-<name>: an OpenAI-compatible adapter
  guardrail <name>   guardrails/<name>, package @waygate/guardrail-<name>: one check in namespace <name>
  plugin <name>      plugins/<name>, package @waygate/<name>: a tap on afterResponse with zod options

  <name>: lower-case letters and digits, in words joined by single dashes (e.g. acme-llm), at most ${MAX_NAME} characters.
  --dry-run: print the files it would write, and write nothing.`;

/** What the script refuses to do (exit code 2); `usage` adds the usage text to the message. */
class Refusal extends Error {
  constructor(message, { usage = true } = {}) {
    super(message);
    this.usage = usage;
  }
}

function parseArgs(argv) {
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  if (flags.includes('--help') || flags.includes('-h')) return { help: true };
  const unknown = flags.filter((f) => f !== '--dry-run');
  if (unknown.length) throw new Refusal(`unknown option ${unknown.join(', ')}`);
  if (words.length !== 2) throw new Refusal(words.length < 2 ? 'name a kind and a package name' : `too many arguments: ${words.slice(2).join(' ')}`);
  const [kind, name] = words;
  if (!Object.hasOwn(KINDS, kind)) throw new Refusal(`unknown kind ${JSON.stringify(kind)}: one of ${Object.keys(KINDS).join(', ')}`);
  return { kind, name, dryRun: flags.includes('--dry-run') };
}

function checkName(kind, name) {
  if (!NAME.test(name)) {
    throw new Refusal(`invalid name ${JSON.stringify(name)}: use lower-case letters and digits, in words joined by single dashes (e.g. acme-llm)`, {
      usage: false,
    });
  }
  if (name.length > MAX_NAME) throw new Refusal(`invalid name ${JSON.stringify(name)}: at most ${MAX_NAME} characters`, { usage: false });
  if (kind === 'plugin') {
    const prefix = ['provider-', 'guardrail-'].find((p) => name.startsWith(p));
    if (prefix)
      throw new Refusal(
        `invalid name ${JSON.stringify(name)}: a ${prefix.slice(0, -1)} package is made with \`npm run new -- ${prefix.slice(0, -1)} ${name.slice(prefix.length)}\``,
        { usage: false },
      );
    // The default header is x-<name>; those two namespaces are the gateway's.
    if (/^(waygate|portkey)(-|$)/.test(name))
      throw new Refusal(`invalid name ${JSON.stringify(name)}: the scope already says waygate, and x-${name} is a header the gateway writes`, {
        usage: false,
      });
  }
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Every workspace package's name, read from the folders the root package.json's workspaces cover. */
function workspacePackageNames() {
  const names = new Map();
  for (const pattern of readJson(path.join(ROOT, 'package.json')).workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(path.join(ROOT, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => path.join(pattern.slice(0, -2), d.name))
      : [pattern];
    for (const dir of dirs) {
      const file = path.join(ROOT, dir, 'package.json');
      if (existsSync(file)) names.set(readJson(file).name, dir);
    }
  }
  return names;
}

/** `^<version>` of a workspace package: what a new package is written against. */
const rangeOf = (dir) => `^${readJson(path.join(ROOT, dir, 'package.json')).version}`;

function camelCase(name) {
  const id = name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

const titleCase = (name) =>
  name
    .split('-')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ');

function packageJson(kind, values) {
  const descriptions = {
    provider: `Waygate provider adapter for ${values.title}: chat completions in OpenAI's wire format.`,
    guardrail: `Waygate guardrail checks (namespace \`${values.name}\`): maxLength, the most characters a request or an answer may have.`,
    plugin: `Waygate plugin: adds a response header, set in its options, to every answer.`,
  };
  const dependencies = {
    provider: undefined,
    guardrail: { '@waygate/guardrails': values.guardrailsRange, zod: values.zodRange },
    plugin: { zod: values.zodRange },
  }[kind];
  const devDependencies = { '@waygate/core': values.coreRange };
  if (kind === 'guardrail') devDependencies['@waygate/guardrails'] = values.guardrailsRange;
  return {
    name: values.package,
    version: '0.1.0',
    description: descriptions[kind],
    type: 'module',
    license: 'MIT',
    main: './dist/src/index.js',
    types: './dist/src/index.d.ts',
    exports: { '.': './dist/src/index.js', './package.json': './package.json' },
    files: ['dist/src', 'README.md', 'CHANGELOG.md'],
    ...(dependencies ? { dependencies } : {}),
    peerDependencies: { '@waygate/core': values.coreRange },
    devDependencies,
  };
}

/** The package's tsconfig.json, in the layout Prettier keeps (short arrays on one line). */
function tsconfigJson(kind) {
  const references = ['../../core', ...(kind === 'guardrail' ? ['../../plugins/guardrails'] : [])];
  return `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": ".", "outDir": "dist" },
  "include": ["src", "test"],
  "references": [${references.map((r) => `{ "path": "${r}" }`).join(', ')}]
}
`;
}

function render(text, values, from) {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key) => {
    if (!Object.hasOwn(values, key)) throw new Error(`${from}: no value for ${whole}`);
    return values[key];
  });
}

/** The template files of a kind, as paths relative to its folder (`test/name.test.ts.tmpl` names the test after the package). */
function templateFiles(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? templateFiles(path.join(dir, d.name), `${prefix}${d.name}/`) : d.name.endsWith('.tmpl') ? [`${prefix}${d.name}`] : [],
  );
}

/** The files of the new package: its relative path → its text. */
function packageFiles(kind, name) {
  const { folder, packageName } = KINDS[kind];
  const dir = `${folder}/${name}`;
  const values = {
    kind,
    name,
    dir,
    package: packageName(name),
    id: camelCase(name),
    title: titleCase(name),
    envName: name.toUpperCase().replace(/-/g, '_'),
    coreRange: rangeOf('core'),
    zodRange: readJson(path.join(ROOT, 'core', 'package.json')).dependencies.zod,
    guardrailsRange: rangeOf('plugins/guardrails'),
    changelogLine: {
      provider: "chat completions in OpenAI's wire format, answers and streams passed through.",
      guardrail: `the check \`${name}.maxLength\`.`,
      plugin: 'a response header from its options, on `afterResponse`.',
    }[kind],
  };
  const files = new Map();
  files.set('package.json', `${JSON.stringify(packageJson(kind, values), null, 2)}\n`);
  files.set('tsconfig.json', tsconfigJson(kind));
  for (const base of [path.join(TEMPLATES, 'common'), path.join(TEMPLATES, kind)]) {
    for (const rel of templateFiles(base)) {
      const target = rel.replace(/\.tmpl$/, '').replace(/^test\/name\./, `test/${name}.`);
      files.set(target, render(readFileSync(path.join(base, rel), 'utf8'), values, rel));
    }
  }
  return { dir, packageName: values.package, files };
}

/** Where `dir` goes among the root tsconfig.json's references: in its group, in name order. */
function referenceIndex(references, dir) {
  const group = (p) => {
    const i = REFERENCE_GROUPS.indexOf(p.split('/')[0]);
    return i === -1 ? REFERENCE_GROUPS.length : i;
  };
  const at = references.findIndex((r) => group(r.path) > group(dir) || (group(r.path) === group(dir) && r.path > dir));
  return at === -1 ? references.length : at;
}

const entryPattern = (p) => new RegExp(`\\{\\s*"path"\\s*:\\s*${JSON.stringify(p).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s*\\}`);

/**
 * The root tsconfig.json's text with a reference to `dir` added, in the layout the file has: the new
 * entry copies a neighbour's text and the whitespace between entries, so nothing else changes. A file
 * laid out some other way is rewritten as JSON.stringify would.
 */
function withReference(text, dir) {
  const config = JSON.parse(text);
  const refs = config.references ?? [];
  const at = referenceIndex(refs, dir);
  const expected = [...refs.slice(0, at), { path: dir }, ...refs.slice(at)];
  const spans = refs.map((r) => {
    const m = Object.keys(r).length === 1 && typeof r.path === 'string' ? entryPattern(r.path).exec(text) : null;
    return m ? { start: m.index, end: m.index + m[0].length, text: m[0], path: r.path } : undefined;
  });
  let next;
  if (refs.length > 0 && spans.every(Boolean)) {
    const near = spans[Math.min(at, refs.length - 1)];
    const entry = near.text.replace(JSON.stringify(near.path), JSON.stringify(dir));
    if (at < refs.length) {
      // Before the entry now at `at`, with the whitespace that comes before it.
      const before = text.slice(0, near.start).match(/\s*$/)[0];
      next = `${text.slice(0, near.start)}${entry},${before}${text.slice(near.start)}`;
    } else {
      const last = spans[refs.length - 1];
      const before = text.slice(0, last.start).match(/\s*$/)[0];
      next = `${text.slice(0, last.end)},${before}${entry}${text.slice(last.end)}`;
    }
  }
  let ok = false;
  try {
    ok = next !== undefined && JSON.stringify(JSON.parse(next).references) === JSON.stringify(expected);
  } catch {
    ok = false;
  }
  if (ok) return next;
  config.references = expected;
  return `${JSON.stringify(config, null, 2)}\n`;
}

function main(argv) {
  const args = parseArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const { kind, name, dryRun } = args;
  checkName(kind, name);
  const { dir, packageName, files } = packageFiles(kind, name);
  const abs = path.join(ROOT, dir);
  if (existsSync(abs)) throw new Refusal(`${dir} exists already: pick another name, or remove that folder first`, { usage: false });
  const taken = workspacePackageNames().get(packageName);
  if (taken) throw new Refusal(`the package name ${packageName} is taken by ${taken}: pick another name`, { usage: false });

  const tsconfigFile = path.join(ROOT, 'tsconfig.json');
  const tsconfig = withReference(readFileSync(tsconfigFile, 'utf8'), dir);

  if (dryRun) {
    for (const [rel, text] of files) console.log(`--- ${dir}/${rel}\n${text}`);
    console.log(`--- tsconfig.json: would add the reference { "path": "${dir}" }`);
    console.log(`\nDry run: nothing written. Without --dry-run this makes ${packageName} in ${dir}.`);
    return 0;
  }

  try {
    for (const [rel, text] of files) {
      mkdirSync(path.dirname(path.join(abs, rel)), { recursive: true });
      writeFileSync(path.join(abs, rel), text, { flag: 'wx' });
    }
    writeFileSync(tsconfigFile, tsconfig);
  } catch (err) {
    // Half a package is worse than none: it would be built by the next `tsc -b` and fail there.
    rmSync(abs, { recursive: true, force: true });
    throw err;
  }

  console.log(`Made ${packageName} in ${dir}:`);
  for (const rel of files.keys()) console.log(`  ${dir}/${rel}`);
  console.log(`  tsconfig.json: added the reference { "path": "${dir}" }`);
  console.log(`
Next steps:
  npm install        link the new workspace into node_modules (and record it in package-lock.json)
  npm test           build everything (tsc -b) and run every test, this package's included
                     (this package alone: npx tsc -b ${dir} && npx mocha --no-config --timeout 20000 --exit '${dir}/dist/test/**/*.test.js')
  Then make it yours: ${dir}/README.md says what it does, and CONTRIBUTING.md has the checklists.`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (err instanceof Refusal) {
    console.error(`npm run new: ${err.message}${err.usage ? `\n\n${USAGE}` : ''}`);
    process.exitCode = 2;
  } else {
    console.error(`npm run new: ${err.stack ?? err}`);
    process.exitCode = 1;
  }
}
