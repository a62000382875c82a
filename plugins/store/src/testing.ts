/**
 * @waygate/store/testing: for tests that need PostgreSQL (not loaded by the gateway): the
 * PostgreSQL the tests use (DATABASE_URL), the "does it answer?" check with the CI rule (under
 * CI=true a missing Postgres fails the suite instead of skipping it), and a schema of the run's own,
 * dropped afterwards, so that parallel runs never see each other's tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '@waygate/core';

export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Why no PostgreSQL answers at `url`, or undefined when one does. */
export async function postgresUnreachable(url = DATABASE_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** In a `before` hook: returns when Postgres answers; else fails under CI=true, or skips the suite elsewhere. */
export async function requirePostgres(suite: { skip(): void }, what: string, url = DATABASE_URL): Promise<void> {
  const why = await postgresUnreachable(url);
  if (why === undefined) return;
  const message = `no PostgreSQL answers at ${redactUrl(url)} (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}: CI=true requires a PostgreSQL for ${what}`);
  console.warn(`      skipping ${what}: ${message}; start one or set DATABASE_URL`);
  suite.skip();
}

/** A schema name of this run's own. */
export function runSchema(label: string): string {
  return `wgt_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string, url = DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
