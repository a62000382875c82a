import { readFileSync } from 'node:fs';

/** The version of @waygate/core, read once from its package.json; plugins declare a semver range against it. */
export const CORE_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
