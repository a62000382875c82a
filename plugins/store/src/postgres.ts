import type { Pool, PoolClient } from 'pg';
import { redactUrl } from '@waygate/core';
import { Database, StoreUnavailable } from './database.js';
import type { Queryable, Row } from './database.js';

export interface PostgresSettings {
  url: string;
  /** The schema the tables live in, created if missing (a run of the tests uses its own). */
  schema: string;
  /** Bounds getting a connection and every statement: past it the database is unavailable. */
  timeoutMs: number;
  /** Connections in the pool. */
  poolSize: number;
}

export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The shared database: PostgreSQL through `pg`'s pool, tables in their own schema. Every statement
 * is bounded (connection and query timeouts, and the server's statement_timeout), so a Postgres that
 * is down or stalled makes a statement fail within `timeoutMs`, never hang.
 */
export class PostgresDatabase extends Database {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly schema: string;
  readonly #pool: Pool;

  private constructor(pool: Pool, settings: PostgresSettings) {
    super();
    this.#pool = pool;
    this.schema = settings.schema;
    this.location = redactUrl(settings.url);
  }

  /** A pool (no connection is made until the first statement). `onError`: an idle connection the server dropped. */
  static async open(settings: PostgresSettings, onError?: (err: Error) => void): Promise<PostgresDatabase> {
    if (!SCHEMA_RE.test(settings.schema)) throw new Error(`invalid schema name ${JSON.stringify(settings.schema)}: lower-case letters, digits and "_"`);
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: settings.url,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.timeoutMs,
      query_timeout: settings.timeoutMs,
      statement_timeout: settings.timeoutMs,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
    // The pool makes a new connection when next asked.
    pool.on('error', (err) => onError?.(err));
    return new PostgresDatabase(pool, settings);
  }

  table(name: string): string {
    return `"${this.schema}".${name}`;
  }

  protected override dialect(sql: string): string {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  protected run(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.#on(this.#pool, sql, params);
  }

  async #on(via: Pool | PoolClient, sql: string, params: readonly unknown[]): Promise<Row[]> {
    try {
      return (await via.query(sql, params as unknown[])).rows as Row[];
    } catch (err) {
      throw this.#unavailable(err);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, exclusive = false): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#unavailable(err);
    }
    // What `fn` throws is the caller's (its statements' errors are mapped already); the rest is the connection's.
    let thrown = false;
    try {
      await client.query('BEGIN');
      if (exclusive) {
        // Replicas starting together migrate one after the other.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`waygate-store:${this.schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      }
      const tx: Queryable = { query: (sql, params = []) => this.#on(client, this.text(sql), params) };
      const out = await fn(tx).catch((err: unknown) => {
        thrown = true;
        throw err;
      });
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw thrown ? err : this.#unavailable(err);
    } finally {
      client.release();
    }
  }

  isDuplicate(err: unknown): boolean {
    return (err as { code?: string }).code === '23505';
  }

  protected async hasTable(tx: Queryable, name: string): Promise<boolean> {
    return (await tx.query('SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', [this.schema, name])).length > 0;
  }

  /** A SQL error stays what it is; anything else (no connection, a timeout, a dropped socket) is StoreUnavailable. */
  #unavailable(err: unknown): unknown {
    if (err instanceof StoreUnavailable) return err;
    const code = (err as { code?: string }).code;
    // SQLSTATE classes 08 (connection), 57 (operator intervention: shutdown, statement timeout), 53 (resources).
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57|53)/.test(code)) return err;
    return new StoreUnavailable(`PostgreSQL at ${this.location}: ${(err as Error).message}`);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
