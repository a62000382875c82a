// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body) and <name>.sse (an
// SSE transcript). The files stay in the source tree (tsc does not copy them): tests run from
// dist/test/, so they are found from the package root.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory above this module that has a package.json: the package root, from dist/test/ or test/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

const DIR = path.join(packageRoot(), 'test', 'fixtures');
const read = (file: string): string => readFileSync(path.join(DIR, file), 'utf8');

/** A recorded JSON answer body, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const jsonFixture = (name: string): any => JSON.parse(read(`${name}.json`));

/** A recorded SSE transcript as its events, each with its blank line (LF or CRLF, as recorded): the pieces the answer was written in. */
export const sseFixture = (name: string): string[] => read(`${name}.sse`).split(/(?<=\r?\n\r?\n)/);

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
