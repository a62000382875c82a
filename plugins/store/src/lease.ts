import path from 'node:path';
import type { Database } from './database.js';
import { PostgresDatabase } from './postgres.js';
import { SqliteDatabase } from './sqlite.js';
import type { ResolvedStore } from './spec.js';

/** A plugin's hold on a shared database; `release()` once, when the plugin closes. */
export interface Lease {
  readonly db: Database;
  release(): Promise<void>;
}

interface Shared {
  db: Promise<Database>;
  holders: number;
}

/** One connection (SQLite) or pool (Postgres) per database per process, whoever asks. */
const open = new Map<string, Shared>();

const where = (s: ResolvedStore): string =>
  s.type === 'sqlite' ? `sqlite:${s.path === ':memory:' ? s.path : path.resolve(s.path)}` : `postgres:${s.url}#${s.schema}`;

/**
 * The database a resolved spec names, shared by every plugin of the process that names the same one
 * (the auth plugin's keys, the request log, stored responses: one SQLite connection, one Postgres
 * pool). The first holder's timeout and pool size apply; the last `release()` closes it. A
 * `:memory:` SQLite database is shared too (it is one database only within its connection).
 */
export async function acquireDatabase(spec: ResolvedStore, onError?: (err: Error) => void): Promise<Lease> {
  const id = where(spec);
  let shared = open.get(id);
  if (!shared) {
    const db =
      spec.type === 'sqlite'
        ? SqliteDatabase.open(spec.path, spec.timeoutMs)
        : PostgresDatabase.open({ url: spec.url, schema: spec.schema, timeoutMs: spec.timeoutMs, poolSize: spec.poolSize }, onError);
    shared = { db, holders: 0 };
    open.set(id, shared);
    db.catch(() => open.get(id) === shared && open.delete(id));
  }
  shared.holders++;
  const held = shared;
  const db = await held.db.catch((err: unknown) => {
    held.holders--;
    throw err;
  });
  let released = false;
  return {
    db,
    async release() {
      if (released) return;
      released = true;
      if (--held.holders > 0) return;
      if (open.get(id) === held) open.delete(id);
      await db.close();
    },
  };
}
