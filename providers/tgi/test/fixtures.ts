// Reads the recorded TGI answers in test/fixtures/: <name>.json (a JSON body) and <name>.sse (an SSE
// transcript), shaped as TGI's API reference (docs/openapi.json: GenerateResponse, StreamResponse,
// ErrorResponse) documents them.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

export const jsonFixture = recorded.json;
export const sseFixture = recorded.sse;
