// Reads the recorded Predibase answers in test/fixtures/, shaped as Predibase's inference API
// reference (POST /generate: generated_text, details with prompt_tokens and generated_tokens) and
// LoRAX's generate_stream events and error bodies document them.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

export const jsonFixture = recorded.json;
export const sseFixture = recorded.sse;
