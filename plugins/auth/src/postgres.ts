import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient } from 'pg';
import { redactUrl } from '@waygate/core';
import { SqlStore, StoreUnavailable } from './store.js';
import type { Row } from './store.js';

export interface PostgresSettings {
  url: string;
  /** The schema the tables live in, created if missing (a run of the tests uses its own). */
  schema: string;
  /** Bounds getting a connection and every statement: past it the store is unavailable. */
  timeoutMs: number;
  /** Connections in the pool. */
  poolSize: number;
}

export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The shared store: PostgreSQL through `pg`'s pool, tables in their own schema. Every statement is
 * bounded (connection and query timeouts, and the server's statement_timeout), so a Postgres that is
 * down or stalled makes a lookup fail within `timeoutMs`, never hang.
 */
export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #url: string;
  /** The connection of the transaction the current call runs in, if any. */
  readonly #tx = new AsyncLocalStorage<PoolClient>();

  private constructor(pool: Pool, settings: PostgresSettings) {
    super();
    this.#pool = pool;
    this.#schema = settings.schema;
    this.#url = settings.url;
  }

  /** Connects and migrates (creating the schema if need be). Throws StoreUnavailable when Postgres does not answer in time. */
  static async open(settings: PostgresSettings, onError?: (err: Error) => void): Promise<PostgresStore> {
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
    // An idle connection the server dropped: logged, and the pool makes a new one when next asked.
    pool.on('error', (err) => onError?.(err));
    const store = new PostgresStore(pool, settings);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  protected table(name: string): string {
    return `"${this.#schema}".${name}`;
  }

  protected async run(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    const client = this.#tx.getStore();
    try {
      const res = client ? await client.query(text, params as unknown[]) : await this.#pool.query(text, params as unknown[]);
      return res.rows as Row[];
    } catch (err) {
      throw this.#unavailable(err);
    }
  }

  protected async transaction<T>(fn: () => Promise<T>, exclusive = false): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#unavailable(err);
    }
    try {
      await client.query('BEGIN');
      if (exclusive) {
        // Replicas starting together migrate one after the other.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`waygate-auth:${this.#schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
      }
      const out = await this.#tx.run(client, fn);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.#unavailable(err);
    } finally {
      client.release();
    }
  }

  protected isDuplicate(err: unknown): boolean {
    return (err as { code?: string }).code === '23505';
  }

  /** A SQL error stays what it is; anything else (no connection, a timeout, a dropped socket) is StoreUnavailable. */
  #unavailable(err: unknown): unknown {
    if (err instanceof StoreUnavailable) return err;
    const code = (err as { code?: string }).code;
    // SQLSTATE classes 08 (connection), 57 (operator intervention: shutdown, statement timeout), 53 (resources).
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57|53)/.test(code)) return err;
    return new StoreUnavailable(`PostgreSQL at ${redactUrl(this.#url)}: ${(err as Error).message}`);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
