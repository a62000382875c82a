// Reads the recorded upstream answers in test/fixtures/: <name>.json (PaLM answers JSON only). The files stay in the source
// tree (tsc does not copy them): tests run from dist/test/, so they are found from the package root.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;
