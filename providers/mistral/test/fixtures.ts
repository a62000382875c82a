// Reads the recorded Mistral answers in test/fixtures/, shaped as Mistral's API reference and its
// SDK's models document them (ChatCompletionResponse, FIMCompletionResponse, EmbeddingResponse,
// OCRResponse, the SSE chunks ending with data: [DONE]) and its error bodies as Mistral sends them.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

export const jsonFixture = recorded.json;
export const sseFixture = recorded.sse;
