/**
 * Reading a package's recorded wire data: `<package>/test/fixtures/<name>.json` (a JSON body),
 * `<name>.sse` (an SSE transcript) and `<name>.eventstream` (binary frames, one base64 line each, `#`
 * lines are comments). The files stay in the source tree (tsc does not copy them): tests run from
 * dist/test/, so they are found from the package root above the calling module.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FixtureReader {
  /** A recorded JSON answer, parsed. */
  json(name: string): any;
  /** A recorded SSE transcript as its events, each with its blank line (LF or CRLF, as recorded): the pieces the answer was written in. */
  sse(name: string): string[];
  /** Recorded binary frames (an AWS event stream), one Uint8Array each. */
  frames(name: string): Uint8Array[];
}

/** The fixture reader of the package that `moduleUrl` (pass `import.meta.url`) belongs to. */
export function fixtures(moduleUrl: string): FixtureReader {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
  const root = path.join(dir, 'test', 'fixtures');
  const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
  return {
    json: (name) => JSON.parse(read(`${name}.json`)),
    sse: (name) => read(`${name}.sse`).split(/(?<=\r?\n\r?\n)/),
    frames: (name) =>
      read(`${name}.eventstream`)
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => new Uint8Array(Buffer.from(line, 'base64'))),
  };
}
