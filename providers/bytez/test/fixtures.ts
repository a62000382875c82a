// Reads the recorded upstream answers in test/fixtures/: <name>.json. A recorded stream is a JSON file
// whose `chunks` are the writes of Bytez's plain-text stream, in order. The files stay in the source
// tree (tsc does not copy them): tests run from dist/test/, so they are found from the package root.
import { fixtures } from '@waygate/core/testing';

const recorded = fixtures(import.meta.url);

/** A recorded JSON answer body, parsed. */
export const jsonFixture = recorded.json;

/** A recorded text stream: the pieces it was written in. */
export const streamFixture = (name: string): string[] => recorded.json(name).chunks as string[];
