/**
 * One SQL database in two dialects: SQLite (a file, the embedded default) and PostgreSQL (shared by
 * replicas). Statements are written once, with `?` placeholders and `{t:NAME}` for a table's name
 * (`NAME` in SQLite, `"<schema>".NAME` in Postgres); JSON columns are jsonb in Postgres and TEXT in
 * SQLite, times timestamptz and ISO-8601 TEXT. A database that cannot answer throws
 * `StoreUnavailable` within its timeout, never hangs.
 */

/** The store did not answer (down, timed out, or failed): the caller fails closed. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

export type Row = Record<string, unknown>;

/** What runs statements: the database, or one transaction of it. */
export interface Queryable {
  /** Runs one statement written with `?` placeholders and `{t:NAME}` tables; resolves with its rows (RETURNING included). */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * A numbered schema change of one owner (a plugin). Each runs once, in order, inside one transaction
 * with its row in `waygate_migrations`; a database applies the ones it has not (two replicas
 * starting at once take turns: Postgres under an advisory lock, SQLite under BEGIN IMMEDIATE). Never
 * edit a migration that shipped: add the next number. Statements are separated by `;\n`.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Owner names: what `migrate()` records its versions under. */
export const OWNER_RE = /^[a-z][a-z0-9-]{0,62}$/;

const MIGRATIONS_TABLE =
  'CREATE TABLE IF NOT EXISTS {t:waygate_migrations} (owner TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (owner, version))';

export abstract class Database implements Queryable {
  abstract readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for log lines (a Postgres URL without its password). */
  abstract readonly location: string;
  /** The statements' texts with `{t:NAME}` replaced, by the text as written. */
  readonly #texts = new Map<string, string>();

  /** Runs one statement of the dialect's own text, outside any transaction; resolves with its rows (RETURNING included). */
  protected abstract run(sql: string, params: readonly unknown[]): Promise<Row[]>;
  /**
   * Runs `fn` in one transaction: the statements it runs through `tx` are inside it (a statement
   * through the database itself is not: in SQLite it waits for the transaction to end). What `fn`
   * throws rolls it back and is rethrown as is. `exclusive`: the schema lock of a migration.
   */
  abstract transaction<T>(fn: (tx: Queryable) => Promise<T>, exclusive?: boolean): Promise<T>;
  /** A table's name in SQL. */
  abstract table(name: string): string;
  /** Whether an error is a unique-key violation. */
  abstract isDuplicate(err: unknown): boolean;
  /** Whether a table exists (for adopting a schema made before per-owner migrations), asked inside `tx`. */
  protected abstract hasTable(tx: Queryable, name: string): Promise<boolean>;
  abstract close(): Promise<void>;

  /** Runs one statement written with `?` placeholders and `{t:NAME}` tables. */
  query(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.run(this.text(sql), params);
  }

  /** A statement's text in the dialect: `{t:NAME}` replaced, placeholders as the dialect wants them (remembered by the text as written). */
  protected text(sql: string): string {
    let text = this.#texts.get(sql);
    if (text === undefined) {
      text = this.dialect(sql.replace(/\{t:(\w+)\}/g, (_, name: string) => this.table(name)));
      if (this.#texts.size < 10_000) this.#texts.set(sql, text);
    }
    return text;
  }

  /**
   * Inserts many rows into one table in one transaction: Postgres in multi-row INSERTs (one round
   * trip per 500 rows), SQLite in multi-row INSERTs of a power of two rows each (a few prepared
   * statements per table, whatever the batch sizes).
   */
  async insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
    const one = `(${columns.map(() => '?').join(', ')})`;
    const head = `INSERT INTO {t:${table}} (${columns.join(', ')}) VALUES `;
    const all = async (q: Queryable) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await q.query(head + chunk.map(() => one).join(', '), chunk.flat());
      }
    };
    await (rows.length > 500 ? this.transaction(all) : all(this));
  }

  /** The dialect's form of a statement with `?` placeholders (Postgres numbers them). */
  protected dialect(sql: string): string {
    return sql;
  }

  /**
   * A number that changes whenever another connection (another process, or another connection of
   * this one) committed a change to the database, read without touching any table; undefined when
   * the dialect cannot tell that cheaply (Postgres). This connection's own writes do not change it.
   * It may lag another connection's commit by up to a millisecond (SQLite reads it that seldom).
   */
  changeMark(): number | undefined {
    return undefined;
  }

  /** A time as the dialect stores it (both take ISO-8601 text). */
  time(iso: string | null): unknown {
    return iso;
  }

  /** A time column's value as ISO-8601 text. */
  readTime(v: unknown): string | null {
    if (v === null || v === undefined) return null;
    return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
  }

  /** A JSON column's value as the dialect stores it. */
  json(value: unknown): unknown {
    return value === null || value === undefined ? null : JSON.stringify(value);
  }

  /** A JSON column's value as read (Postgres parses jsonb itself). */
  readJson(v: unknown): unknown {
    return typeof v === 'string' ? JSON.parse(v) : (v ?? null);
  }

  /**
   * Applies every migration of `owner` not yet applied, in order, each in the schema lock; returns
   * the versions it applied. `legacy`: the owner whose versions a database made before migrations
   * were kept per owner holds in `schema_migrations` (the auth plugin's): those are taken over, not
   * run again.
   */
  async migrate(owner: string, migrations: readonly Migration[], legacy = false): Promise<number[]> {
    if (!OWNER_RE.test(owner)) throw new Error(`invalid migration owner ${JSON.stringify(owner)}`);
    return this.transaction(async (tx) => {
      await tx.query(MIGRATIONS_TABLE);
      const done = new Set((await tx.query('SELECT version FROM {t:waygate_migrations} WHERE owner = ?', [owner])).map((r) => Number(r.version)));
      if (!done.size && legacy && (await this.hasTable(tx, 'schema_migrations'))) {
        for (const r of await tx.query('SELECT version, name, applied_at FROM {t:schema_migrations}')) {
          await tx.query('INSERT INTO {t:waygate_migrations} (owner, version, name, applied_at) VALUES (?, ?, ?, ?)', [
            owner,
            r.version,
            r.name,
            r.applied_at,
          ]);
          done.add(Number(r.version));
        }
      }
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        for (const statement of m[this.kind].split(';\n')) if (statement.trim()) await tx.query(statement);
        await tx.query('INSERT INTO {t:waygate_migrations} (owner, version, name, applied_at) VALUES (?, ?, ?, ?)', [
          owner,
          m.version,
          m.name,
          new Date().toISOString(),
        ]);
        applied.push(m.version);
      }
      return applied;
    }, true);
  }

  /** The versions of `owner` applied, in order. */
  async schemaVersions(owner: string): Promise<number[]> {
    const rows = await this.query('SELECT version FROM {t:waygate_migrations} WHERE owner = ? ORDER BY version', [owner]);
    return rows.map((r) => Number(r.version));
  }
}
