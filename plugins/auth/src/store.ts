import type { KeyRecord, Policy, TeamRecord } from './records.js';
import { POLICY_FIELDS } from './records.js';
import { MIGRATIONS } from './migrations.js';
import type { Migration } from './migrations.js';
import { PostgresDatabase, SqliteDatabase, StoreUnavailable } from '@waygate/store';
import type { Database, PostgresSettings, Row } from '@waygate/store';

export { StoreUnavailable };
export type { Row };

/**
 * Where keys and teams live: SQLite (one file, the default) or PostgreSQL (shared by replicas). Both
 * implement this interface over the same SQL (`SqlStore`), and the same test suite runs against
 * both. A store that cannot answer throws `StoreUnavailable` within its timeout, never hangs.
 */
export interface AuthStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Adds a key; false when its id is taken. */
  insertKey(rec: KeyRecord): Promise<boolean>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(filter?: { team?: string; includeRevoked?: boolean }): Promise<KeyRecord[]>;
  /** Changes the given fields (and updated_at) of a key that is not revoked; undefined when there is none. */
  updateKey(id: string, fields: Partial<Omit<KeyRecord, 'id' | 'hash' | 'created_at' | 'revoked_at'>>, at: string): Promise<KeyRecord | undefined>;
  /** Marks a key revoked (the first revocation's time stays); undefined when there is no such key. */
  revokeKey(id: string, at: string): Promise<KeyRecord | undefined>;
  /** Adds a team; false when its id is taken. */
  insertTeam(rec: TeamRecord): Promise<boolean>;
  getTeam(id: string): Promise<TeamRecord | undefined>;
  listTeams(): Promise<TeamRecord[]>;
  updateTeam(id: string, fields: Partial<Omit<TeamRecord, 'id' | 'created_at'>>, at: string): Promise<TeamRecord | undefined>;
  /** Deletes a team that has no active key: 'deleted', 'missing', or the number of its active keys. */
  deleteTeam(id: string): Promise<'deleted' | 'missing' | number>;
  /** A key and its team, in one round trip: what each request asks. */
  lookup(id: string): Promise<{ key: KeyRecord; team: TeamRecord | undefined } | undefined>;
  /** The versions of a key and its team as `<key>|<team>` (cheaper than `lookup`), or undefined when there is no such key. */
  stamp(id: string): Promise<string | undefined>;
  /**
   * A mark that changes whenever any key or team may have changed (SQLite: another connection's
   * commit, or a key or team write of this process through any store over the same database);
   * undefined when the store cannot tell without a query (Postgres). While it is unchanged, what a
   * lookup returned is still current.
   */
  freshness(): string | undefined;
  /** Appends spend rows (one batch, one transaction). */
  insertSpend(rows: readonly SpendRow[]): Promise<void>;
  /** The USD spent by a key or a team since a time (unpriced rows count 0). */
  spentSince(scope: 'key' | 'team', id: string, since: string): Promise<number>;
  /** Spend summed per group over a time range, optionally filtered. */
  spendReport(q: SpendQuery): Promise<SpendGroup[]>;
  close(): Promise<void>;
}

/** One answered request's spend. */
export interface SpendRow {
  at: string;
  key_id: string;
  team: string | null;
  model: string | null;
  provider: string | null;
  endpoint: string;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** null: the model has no known price. */
  cost_usd: number | null;
  /** The tokens were estimated (the upstream reported none: a stream cut short); in a summed row, how many of its requests were. */
  estimated: boolean | number;
  /** How many requests the row sums (default 1). */
  requests?: number;
}

export const SPEND_GROUPS = ['key', 'team', 'model', 'provider'] as const;
export type SpendGroupBy = (typeof SPEND_GROUPS)[number];

export interface SpendQuery {
  from: string;
  to: string;
  groupBy: readonly SpendGroupBy[];
  key?: string;
  team?: string;
  model?: string;
  provider?: string;
}

export interface SpendGroup {
  key?: string;
  team?: string | null;
  model?: string | null;
  provider?: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** Requests whose model had no known price (their cost is not in cost_usd). */
  unpriced_requests: number;
  /** Requests whose tokens were estimated. */
  estimated_requests: number;
}

const SPEND_COLUMNS = [
  'at',
  'key_id',
  'team',
  'model',
  'provider',
  'endpoint',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_usd',
  'estimated',
  'requests',
] as const;
const GROUP_COLUMN: Record<SpendGroupBy, string> = { key: 'key_id', team: 'team', model: 'model', provider: 'provider' };

const KEY_COLUMNS = ['id', 'hash', 'name', 'team', ...POLICY_FIELDS, 'expires_at', 'created_at', 'updated_at', 'revoked_at'] as const;
const TEAM_COLUMNS = ['id', 'name', ...POLICY_FIELDS, 'created_at', 'updated_at'] as const;
/** What a read returns: the written columns and the version the store keeps. */
const KEY_READ = [...KEY_COLUMNS, 'version'] as const;
const TEAM_READ = [...TEAM_COLUMNS, 'version'] as const;
/** The team's columns in the lookup's join, as `t__<column>`. */
const TEAM_SELECT = TEAM_READ.map((c) => `t.${c} AS t__${c}`).join(', ');
const JSON_COLUMNS: ReadonlySet<string> = new Set(POLICY_FIELDS);
const TIME_COLUMNS: ReadonlySet<string> = new Set(['expires_at', 'created_at', 'updated_at', 'revoked_at']);
const KEY_UPDATABLE: ReadonlySet<string> = new Set(['name', 'team', ...POLICY_FIELDS, 'expires_at']);
const TEAM_UPDATABLE: ReadonlySet<string> = new Set(['name', ...POLICY_FIELDS]);

/** Key and team writes per database, by every store over it in this process (for `freshness`). */
const writes = new WeakMap<Database, { n: number }>();

/**
 * The auth plugin's tables (keys, teams, spend) over a `@waygate/store` database, SQLite or
 * PostgreSQL: the same statements in both, and the same test suite against both.
 */
export class SqlStore implements AuthStore {
  readonly #db: Database;
  readonly #close: () => Promise<void>;

  private constructor(db: Database, close: () => Promise<void>) {
    this.#db = db;
    this.#close = close;
  }

  /** The store over `db`, migrated; `close` is how it lets go of the database (the database's own close by default). */
  static async over(db: Database, close: () => Promise<void> = () => db.close()): Promise<SqlStore> {
    const store = new SqlStore(db, close);
    try {
      await store.migrate();
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  freshness(): string | undefined {
    const mark = this.#db.changeMark();
    return mark === undefined ? undefined : `${mark}:${this.#writes.n}`;
  }

  get #writes(): { n: number } {
    let w = writes.get(this.#db);
    if (!w) writes.set(this.#db, (w = { n: 0 }));
    return w;
  }

  /** Runs a key or team write, counted for `freshness` once it is done (whether or not it changed a row). */
  async #changing<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.#writes.n++;
    }
  }

  get kind(): 'sqlite' | 'postgres' {
    return this.#db.kind;
  }

  close(): Promise<void> {
    return this.#close();
  }

  private run(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.#db.query(sql, params);
  }

  private isDuplicate(err: unknown): boolean {
    return this.#db.isDuplicate(err);
  }

  private time(iso: string | null): unknown {
    return this.#db.time(iso);
  }

  /** Applies the auth migrations not yet applied (a database made before migrations were kept per owner is adopted). Returns the versions it applied. */
  migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
    return this.#db.migrate('auth', migrations, true);
  }

  /** The auth schema versions applied, in order. */
  schemaVersions(): Promise<number[]> {
    return this.#db.schemaVersions('auth');
  }

  insertKey(rec: KeyRecord): Promise<boolean> {
    return this.#changing(this.#insert('keys', KEY_COLUMNS, rec as unknown as Row));
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const [row] = await this.run('SELECT * FROM {t:keys} WHERE id = ?', [id]);
    return row ? this.#key(row) : undefined;
  }

  async listKeys(filter: { team?: string; includeRevoked?: boolean } = {}): Promise<KeyRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.team !== undefined) {
      where.push('team = ?');
      params.push(filter.team);
    }
    if (!filter.includeRevoked) where.push('revoked_at IS NULL');
    const rows = await this.run(`SELECT * FROM {t:keys}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params);
    return rows.map((r) => this.#key(r));
  }

  async updateKey(id: string, fields: Partial<KeyRecord>, at: string): Promise<KeyRecord | undefined> {
    const row = await this.#changing(this.#update('keys', KEY_UPDATABLE, id, fields as Row, at, ' AND revoked_at IS NULL'));
    return row ? this.#key(row) : undefined;
  }

  async revokeKey(id: string, at: string): Promise<KeyRecord | undefined> {
    const [row] = await this.#changing(
      this.run('UPDATE {t:keys} SET revoked_at = COALESCE(revoked_at, ?), updated_at = ?, version = version + 1 WHERE id = ? RETURNING *', [
        this.time(at),
        this.time(at),
        id,
      ]),
    );
    return row ? this.#key(row) : undefined;
  }

  insertTeam(rec: TeamRecord): Promise<boolean> {
    return this.#changing(this.#insert('teams', TEAM_COLUMNS, rec as unknown as Row));
  }

  async getTeam(id: string): Promise<TeamRecord | undefined> {
    const [row] = await this.run('SELECT * FROM {t:teams} WHERE id = ?', [id]);
    return row ? this.#team(row) : undefined;
  }

  async listTeams(): Promise<TeamRecord[]> {
    return (await this.run('SELECT * FROM {t:teams} ORDER BY created_at, id')).map((r) => this.#team(r));
  }

  async updateTeam(id: string, fields: Partial<TeamRecord>, at: string): Promise<TeamRecord | undefined> {
    const row = await this.#changing(this.#update('teams', TEAM_UPDATABLE, id, fields as Row, at, ''));
    return row ? this.#team(row) : undefined;
  }

  deleteTeam(id: string): Promise<'deleted' | 'missing' | number> {
    return this.#changing(
      this.#db.transaction(async (tx) => {
        const [active] = await tx.query('SELECT COUNT(*) AS n FROM {t:keys} WHERE team = ? AND revoked_at IS NULL', [id]);
        const n = Number(active?.n ?? 0);
        if (n > 0) return n;
        const deleted = await tx.query('DELETE FROM {t:teams} WHERE id = ? RETURNING id', [id]);
        return deleted.length ? 'deleted' : 'missing';
      }),
    );
  }

  async lookup(id: string): Promise<{ key: KeyRecord; team: TeamRecord | undefined } | undefined> {
    const [row] = await this.run(`SELECT k.*, ${TEAM_SELECT} FROM {t:keys} k LEFT JOIN {t:teams} t ON t.id = k.team WHERE k.id = ?`, [id]);
    if (!row) return undefined;
    const team = row.t__id === null || row.t__id === undefined ? undefined : this.#team(Object.fromEntries(TEAM_READ.map((c) => [c, row[`t__${c}`]])));
    return { key: this.#key(row), team };
  }

  async stamp(id: string): Promise<string | undefined> {
    const [row] = await this.run('SELECT k.version AS kv, t.version AS tv FROM {t:keys} k LEFT JOIN {t:teams} t ON t.id = k.team WHERE k.id = ?', [id]);
    return row ? `${Number(row.kv)}|${row.tv === null || row.tv === undefined ? '' : Number(row.tv)}` : undefined;
  }

  async insertSpend(rows: readonly SpendRow[]): Promise<void> {
    if (!rows.length) return;
    const values = rows.map((r) =>
      SPEND_COLUMNS.map((c) => (c === 'at' ? this.time(r.at) : c === 'estimated' ? Number(r.estimated) : c === 'requests' ? (r.requests ?? 1) : r[c])),
    );
    await this.#db.insertRows('spend', SPEND_COLUMNS, values);
  }

  async spentSince(scope: 'key' | 'team', id: string, since: string): Promise<number> {
    const [row] = await this.run(`SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM {t:spend} WHERE ${scope === 'key' ? 'key_id' : 'team'} = ? AND at >= ?`, [
      id,
      this.time(since),
    ]);
    return Number(row?.usd ?? 0);
  }

  async spendReport(q: SpendQuery): Promise<SpendGroup[]> {
    const where = ['at >= ?', 'at < ?'];
    const params: unknown[] = [this.time(q.from), this.time(q.to)];
    for (const g of SPEND_GROUPS) {
      const v = q[g];
      if (v === undefined) continue;
      where.push(`${GROUP_COLUMN[g]} = ?`);
      params.push(v);
    }
    const cols = q.groupBy.map((g) => `${GROUP_COLUMN[g]} AS g_${g}`);
    const sums = [
      'SUM(requests) AS requests',
      ...['prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens'].map((c) => `SUM(${c}) AS ${c}`),
      'COALESCE(SUM(cost_usd), 0) AS cost_usd',
      'SUM(CASE WHEN cost_usd IS NULL THEN requests ELSE 0 END) AS unpriced_requests',
      'SUM(estimated) AS estimated_requests',
    ];
    const group = q.groupBy.length ? ` GROUP BY ${q.groupBy.map((g) => GROUP_COLUMN[g]).join(', ')} ORDER BY cost_usd DESC, requests DESC` : '';
    const rows = await this.run(`SELECT ${[...cols, ...sums].join(', ')} FROM {t:spend} WHERE ${where.join(' AND ')}${group}`, params);
    return rows
      .filter((r) => Number(r.requests) > 0)
      .map((r) => {
        const out: SpendGroup = {
          requests: Number(r.requests),
          prompt_tokens: Number(r.prompt_tokens ?? 0),
          completion_tokens: Number(r.completion_tokens ?? 0),
          cached_tokens: Number(r.cached_tokens ?? 0),
          reasoning_tokens: Number(r.reasoning_tokens ?? 0),
          cost_usd: Number(r.cost_usd ?? 0),
          unpriced_requests: Number(r.unpriced_requests ?? 0),
          estimated_requests: Number(r.estimated_requests ?? 0),
        };
        for (const g of q.groupBy) (out as unknown as Row)[g] = r[`g_${g}`] ?? null;
        return out;
      });
  }

  async #insert(table: string, columns: readonly string[], rec: Row): Promise<boolean> {
    const values = columns.map((c) => this.#encode(c, rec[c] ?? null));
    try {
      await this.run(`INSERT INTO {t:${table}} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, values);
      return true;
    } catch (err) {
      if (this.isDuplicate(err)) return false;
      throw err;
    }
  }

  async #update(table: string, allowed: ReadonlySet<string>, id: string, fields: Row, at: string, extra: string): Promise<Row | undefined> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of Object.entries(fields)) {
      if (!allowed.has(column) || value === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(this.#encode(column, value));
    }
    sets.push('updated_at = ?', 'version = version + 1');
    params.push(this.time(at), id);
    const [row] = await this.run(`UPDATE {t:${table}} SET ${sets.join(', ')} WHERE id = ?${extra} RETURNING *`, params);
    return row;
  }

  #encode(column: string, value: unknown): unknown {
    if (JSON_COLUMNS.has(column)) return this.#db.json(value);
    if (TIME_COLUMNS.has(column)) return this.time(value as string | null);
    return value;
  }

  #decode(row: Row, columns: readonly string[]): Row {
    const out: Row = {};
    for (const c of columns) {
      const v = row[c] ?? null;
      if (v !== null && JSON_COLUMNS.has(c)) out[c] = typeof v === 'string' ? JSON.parse(v) : v;
      else if (c === 'version') out[c] = Number(v);
      else if (v !== null && TIME_COLUMNS.has(c)) out[c] = v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
      else out[c] = v;
    }
    return out;
  }

  #key(row: Row): KeyRecord {
    return this.#decode(row, KEY_READ) as unknown as KeyRecord;
  }

  #team(row: Row): TeamRecord {
    return this.#decode(row, TEAM_READ) as unknown as TeamRecord & Policy;
  }
}

/** An auth store over a connection of its own (tests and tools; the plugin shares one through `acquireDatabase`). */
export const SqliteStore = {
  open: async (file: string, busyTimeoutMs?: number): Promise<SqlStore> => SqlStore.over(await SqliteDatabase.open(file, busyTimeoutMs)),
};
export const PostgresStore = {
  open: async (settings: PostgresSettings, onError?: (err: Error) => void): Promise<SqlStore> =>
    SqlStore.over(await PostgresDatabase.open(settings, onError)),
};
