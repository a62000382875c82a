// Reads the recorded Replicate answers in test/fixtures/ (shaped as Replicate's HTTP API reference and
// streaming guide document them): <name>.json (a prediction or a problem-details error) and <name>.sse.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

export const jsonFixture = recorded.json;
export const sseFixture = recorded.sse;
