import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SCHEMA_RE } from './postgres.js';

/**
 * Where a plugin's data lives: the `store` option of every plugin that keeps data (the same shape
 * everywhere, so one block copied between plugins means one database).
 */
export const StoreSpecSchema = z.strictObject({
  /** Default: postgres when `url` or $DATABASE_URL is set, else sqlite. */
  type: z.enum(['sqlite', 'postgres']).optional(),
  /** SQLite file. Default: $WAYGATE_DATA_DIR/waygate.sqlite, else ~/.waygate/waygate.sqlite. */
  path: z.string().min(1).optional(),
  /** PostgreSQL URL (`env:NAME` allowed). Default: $DATABASE_URL. */
  url: z.string().min(1).optional(),
  /** The Postgres schema of the tables (created if missing). */
  schema: z.string().regex(SCHEMA_RE, 'lower-case letters, digits and "_"').default('waygate'),
  /** Longest wait for the database, on a request or an admin call. */
  timeoutMs: z.number().int().positive().default(2000),
  /** Connections in the Postgres pool. */
  poolSize: z.number().int().positive().default(10),
});
export type StoreSpec = z.input<typeof StoreSpecSchema>;

/** A spec with every default applied and `env:` names read: exactly one database. */
export type ResolvedStore =
  { type: 'sqlite'; path: string; timeoutMs: number } | { type: 'postgres'; url: string; schema: string; timeoutMs: number; poolSize: number };

/** Resolves `env:NAME` from the environment; a missing variable is an error naming the option. */
export function fromEnv(value: string | undefined, option: string, env: NodeJS.ProcessEnv): string | undefined {
  if (value === undefined || !value.startsWith('env:')) return value;
  const v = env[value.slice(4)];
  if (!v) throw new Error(`${option} names environment variable ${value.slice(4)}, which is not set`);
  return v;
}

/** The directory Waygate keeps its data in: $WAYGATE_DATA_DIR, else ~/.waygate. */
export const dataDir = (env: NodeJS.ProcessEnv): string => env.WAYGATE_DATA_DIR || path.join(os.homedir(), '.waygate');

/** Applies the defaults to a spec (validating it): Postgres when a URL is given or $DATABASE_URL is set, else the SQLite file in the data directory. */
export function resolveStoreSpec(spec: StoreSpec | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedStore {
  const s = StoreSpecSchema.parse(spec ?? {});
  const url = fromEnv(s.url, 'store.url', env) ?? (env.DATABASE_URL || undefined);
  const type = s.type ?? (url ? 'postgres' : 'sqlite');
  if (type === 'postgres') {
    if (!url) throw new Error('store.type is "postgres" but no URL is set: give store.url or set DATABASE_URL');
    return { type, url, schema: s.schema, timeoutMs: s.timeoutMs, poolSize: s.poolSize };
  }
  return { type, path: s.path ?? path.join(dataDir(env), 'waygate.sqlite'), timeoutMs: s.timeoutMs };
}
