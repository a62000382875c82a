import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Database, StoreUnavailable } from './database.js';
import type { Queryable, Row } from './database.js';

/** How long a read of `data_version` stands for the file's state. */
const MARK_MS = 1;

/** SQLite's bound on the parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER: 999 before 3.32, 32766 since). */
const maxParams = (version: string): number => {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 32) ? 32_766 : 999;
};

/** Most rows in one multi-row INSERT (more saves nothing measurable, and makes a longer statement to prepare). */
const MAX_ROWS_PER_INSERT = 512;

/**
 * The embedded database: one SQLite file (better-sqlite3, synchronous and in-process: a lookup is a
 * few microseconds). WAL journal (synchronous NORMAL), so several processes on one host may share the file; foreign keys
 * on. The directory is created on first open (mode 0700).
 */
export class SqliteDatabase extends Database {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  /** The open transaction: every statement not its own waits for it to end (one connection). */
  #open: Promise<unknown> | undefined;
  #dataVersion: BetterSqlite3.Statement | undefined;
  #mark: number | undefined;
  #markAt = 0;
  /** Parameters one statement may bind. */
  readonly #maxParams: number;
  /** Multi-row INSERTs by table and columns, then by log2 of their rows. */
  readonly #inserts = new Map<string, BetterSqlite3.Statement[]>();

  private constructor(db: BetterSqlite3.Database, file: string) {
    super();
    this.#db = db;
    this.location = file;
    this.#maxParams = maxParams(String(db.prepare('SELECT sqlite_version()').pluck().get()));
  }

  /** Opens (creating it and its directory if need be) a file, or `:memory:`. `busyTimeoutMs` bounds a wait for another writer. */
  static async open(file: string, busyTimeoutMs = 2000): Promise<SqliteDatabase> {
    const { default: Sqlite } = await import('better-sqlite3');
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const db = new Sqlite(file, { timeout: busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL is durable against a crash of the process (only a power loss can take the
      // last commits back) and does not fsync on every commit: better-sqlite3 is synchronous, and an
      // fsync per spend flush would stall every request in flight for the disk.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDatabase(db, file);
  }

  /**
   * SQLite's `data_version`, read at most once a millisecond (a read takes the file's shared lock: a
   * few microseconds of system calls, which a busy gateway would otherwise pay on every request), so
   * a change another process commits is seen by the requests that start a millisecond later. This
   * process's own writes are counted by its callers and seen at once.
   */
  override changeMark(): number | undefined {
    if (!this.#db.open) return this.#mark;
    const t = performance.now();
    if (this.#mark !== undefined && t - this.#markAt < MARK_MS) return this.#mark;
    this.#dataVersion ??= this.#db.prepare('PRAGMA data_version').pluck();
    this.#mark = this.#dataVersion.get() as number;
    this.#markAt = t;
    return this.#mark;
  }

  table(name: string): string {
    return name;
  }

  protected async run(sql: string, params: readonly unknown[]): Promise<Row[]> {
    while (this.#open) await this.#open.catch(() => undefined);
    return this.#exec(sql, params);
  }

  #exec(sql: string, params: readonly unknown[]): Row[] {
    let st = this.#statements.get(sql);
    try {
      if (!st) this.#statements.set(sql, (st = this.#db.prepare(sql)));
      return st.reader ? (st.all(...params) as Row[]) : (st.run(...params), []);
    } catch (err) {
      throw this.#failure(err);
    }
  }

  /** A statement's error as callers see it. */
  #failure(err: unknown): unknown {
    if (this.isDuplicate(err) || !this.#db.open) return err;
    // SQLITE_BUSY (another writer held the file past the timeout), a full or read-only disk: the database cannot answer.
    if (/^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN)/.test((err as { code?: string }).code ?? ''))
      return new StoreUnavailable((err as Error).message);
    return err;
  }

  /**
   * One transaction of multi-row INSERTs: statements of 2^k rows (at most 512, and at most SQLite's
   * parameter limit), largest first, so 37 rows go as 32 + 4 + 1 and a table has at most ten
   * statements prepared whatever the batch sizes. A statement per row cost about as much in its run
   * (binding, VDBE start and halt, the JavaScript around it) as in the insert itself.
   */
  override async insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
    if (!rows.length) return;
    const width = columns.length;
    const key = `${table}\0${columns.join(',')}`;
    let statements = this.#inserts.get(key);
    if (!statements) this.#inserts.set(key, (statements = []));
    let most = 1;
    while (most * 2 <= MAX_ROWS_PER_INSERT && most * 2 * width <= this.#maxParams) most *= 2;
    await this.transaction(async () => {
      let i = 0;
      while (i < rows.length) {
        let n = most;
        let k = Math.log2(most);
        while (n > rows.length - i) {
          n >>= 1;
          k--;
        }
        const params = new Array<unknown>(n * width);
        for (let r = 0, p = 0; r < n; r++) {
          const row = rows[i + r]!;
          if (row.length !== width) throw new Error(`insertRows: a row of ${row.length} values for ${width} columns`);
          for (let c = 0; c < width; c++) params[p++] = row[c];
        }
        try {
          let st = statements[k];
          if (!st) {
            const one = `(${columns.map(() => '?').join(', ')})`;
            const sql = `INSERT INTO ${this.table(table)} (${columns.join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`;
            st = statements[k] = this.#db.prepare(sql);
          }
          st.run(...params);
        } catch (err) {
          throw this.#failure(err);
        }
        i += n;
      }
    });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>, exclusive = false): Promise<T> {
    // One connection: a statement from another request must not land inside this transaction.
    while (this.#open) await this.#open.catch(() => undefined);
    // Statements through `tx` run inside; it is passed, not found through AsyncLocalStorage, whose
    // promise hooks would tax every promise of the process once a transaction had run.
    const tx: Queryable = { query: async (sql, params = []) => this.#exec(this.text(sql), params) };
    const body = async () => {
      this.#db.exec(exclusive ? 'BEGIN IMMEDIATE' : 'BEGIN');
      try {
        const out = await fn(tx);
        this.#db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    };
    const done = body();
    this.#open = done;
    try {
      return await done;
    } finally {
      if (this.#open === done) this.#open = undefined;
    }
  }

  isDuplicate(err: unknown): boolean {
    const code = (err as { code?: string }).code;
    return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
  }

  protected async hasTable(tx: Queryable, name: string): Promise<boolean> {
    return (await tx.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name])).length > 0;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
