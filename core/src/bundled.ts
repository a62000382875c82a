import { createRequire } from 'node:module';

/**
 * The distribution's bundled plugins, listed in `core/bundled.json`: with no config file (or
 * `"defaultPlugins": true`, the default) the CLI has the gateway load every one, in that order, before
 * the config's own `plugins`. This list is the CLI's, not the kernel's: `startGateway()` loads it only
 * when passed it. It is data, so it lives in JSON and not in the core's code budget.
 */
export const BUNDLED_PLUGINS: readonly string[] = Object.freeze(createRequire(import.meta.url)('../../bundled.json') as string[]);
