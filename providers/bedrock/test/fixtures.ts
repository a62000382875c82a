// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body, or for AWS errors the
// whole answer with its x-amzn-errortype header) and <name>.eventstream (ConverseStream's binary
// event-stream frames, one base64 line per frame, `#` lines are comments). The files stay in the source
// tree (tsc does not copy them): tests run from dist/test/, so they are found from the package root.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;

/** A recorded event stream as its frames, one Uint8Array each (the kit writes them as recorded or byte by byte). */
export const eventStreamFixture = recorded.frames;

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
