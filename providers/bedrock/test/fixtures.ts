// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body, or for AWS errors the
// whole answer with its x-amzn-errortype header) and <name>.eventstream (ConverseStream's binary
// event-stream frames, one base64 line per frame, `#` lines are comments). The files stay in the source
// tree (tsc does not copy them): tests run from dist/test/, so they are found from the package root.
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

/** A recorded JSON answer, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const jsonFixture = (name: string): any => JSON.parse(read(`${name}.json`));

/** A recorded event stream as its frames, one Uint8Array each (the kit writes them as recorded or byte by byte). */
export const eventStreamFixture = (name: string): Uint8Array[] =>
  read(`${name}.eventstream`)
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => new Uint8Array(Buffer.from(line, 'base64')));

export const MODEL = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
export const MODEL_PATH = '/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0';

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
