// Reads the recorded upstream answers in test/fixtures/: <name>.json (a JSON body, or for SageMaker errors
// the whole answer with its x-amzn-errortype header) and <name>.eventstream (InvokeEndpointWithResponseStream's
// binary frames, one base64 line per frame, `#` lines are comments).
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;

/** A recorded event stream as its frames, one Uint8Array each. */
export const eventStreamFixture = recorded.frames;

export const ENDPOINT = 'my-llm';

/** The known test credentials (AWS's documentation example key pair). */
export const KEYS = {
  aws_access_key_id: 'AKIDEXAMPLE',
  aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  aws_session_token: 'session-token-example-0123456789',
  aws_region: 'us-west-2',
};

/** The tool the requests in these tests offer (an OpenAI function tool). */
export const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
