import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The core's shape, as the design card asks for it: no import cycle inside core/src (type-only
 * imports included), a main entry of at most 60 names, at most 3,000 lines of code in the runtime
 * (core/src without core/src/testing; blank and comment-only lines not counted), and a kernel that
 * knows no plugin by name (only the CLI's bundled list names them).
 */
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const runtimeFiles = (): string[] =>
  fs
    .readdirSync(SRC)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(SRC, f));

/** The relative modules a file imports or re-exports, type-only ones included. */
function localImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.\/[^']+)\.js'/gm)) out.push(path.join(SRC, `${m[1]}.ts`));
  for (const m of text.matchAll(/^\s*import\s+'(\.\/[^']+)\.js'/gm)) out.push(path.join(SRC, `${m[1]}.ts`));
  return out;
}

/** Lines that hold code: not blank, not only a comment. */
export function codeLines(text: string): number {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    if (line.startsWith('/*')) {
      if (!line.includes('*/')) inBlock = true;
      continue;
    }
    n++;
  }
  return n;
}

describe('the core’s shape', () => {
  it('has no import cycle inside core/src, type-only imports included', () => {
    const graph = new Map(runtimeFiles().map((f) => [f, localImports(f)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.basename(f, '.ts')).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).to.deep.equal([]);
  });

  it('exports at most 60 names (values and types) from the main entry', () => {
    const entry = path.join(SRC, 'index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const names = checker.getExportsOfModule(symbol).map((s) => s.getName());
    expect(names.length, names.join(', ')).to.be.at.most(60);
    expect(names).to.include.members(['definePlugin', 'startGateway', 'GatewayError', 'BeforeRequestStage', 'SelectTargetStage']);
  });

  it('keeps the runtime (core/src without testing) at most 3,000 lines of code', () => {
    const total = runtimeFiles().reduce((n, f) => n + codeLines(fs.readFileSync(f, 'utf8')), 0);
    expect(total).to.be.at.most(3000);
  });

  it('counts code lines, not comments or blank lines', () => {
    expect(codeLines('/**\n * doc\n */\nconst a = 1; // note\n\n// only a comment\n/* one-line */\nfoo();\n')).to.equal(2);
  });

  it('names no plugin package anywhere in the kernel: only the CLI’s bundled list does', () => {
    const naming = runtimeFiles().filter((f) => path.basename(f) !== 'bundled.ts' && /'@waygate\/(?!core)[a-z-]+'/.test(fs.readFileSync(f, 'utf8')));
    expect(naming.map((f) => path.basename(f))).to.deep.equal([]);
  });
});
