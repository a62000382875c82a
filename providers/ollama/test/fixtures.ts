// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body) and <name>.ndjson
// (a newline-delimited JSON stream, Ollama's). The files stay in the source tree (tsc does not copy
// them): tests run from dist/test/, so they are found from the package root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;

/** A recorded NDJSON stream as its lines, each with its newline: the pieces the answer was written in. */
export function ndjsonFixture(name: string): string[] {
  const file = fileURLToPath(new URL(`../../test/fixtures/${name}.ndjson`, import.meta.url));
  return readFileSync(file, 'utf8').split(/(?<=\n)/);
}

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
