// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body) and <name>.sse (an
// SSE transcript of a Jamba stream). The files stay in the source tree (tsc does not copy them): tests run from
// dist/test/, so they are found from the package root.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;

/** A recorded SSE transcript as its events, each with its blank line: the pieces the answer was written in. */
export const sseFixture = recorded.sse;

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
