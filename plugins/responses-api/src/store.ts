import type { Database, Migration } from '@waygate/store';
import type { Json } from './format.js';

/** Stored responses (for bridged providers), each with the input items it answered, per owner (a gateway key id or `anonymous`). */
export const OWNER = 'responses-api';
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'stored responses',
    sqlite:
      'CREATE TABLE {t:responses} (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at INTEGER NOT NULL, response TEXT NOT NULL, input TEXT NOT NULL)',
    postgres:
      'CREATE TABLE {t:responses} (id TEXT PRIMARY KEY, owner TEXT NOT NULL, created_at BIGINT NOT NULL, response jsonb NOT NULL, input jsonb NOT NULL)',
  },
];

export interface Stored {
  response: Json;
  /** The whole conversation's input items up to this response (previous turns included). */
  input: Json[];
}

export class ResponseStore {
  /** `maxAgeMs`: a response older than this (by its `created_at`) is never served, and `prune()` deletes it. */
  constructor(
    readonly db: Database,
    readonly maxAgeMs?: number,
  ) {}

  /** The oldest `created_at` (seconds) still served. */
  #cutoff(now = Date.now()): number {
    return this.maxAgeMs === undefined ? 0 : Math.floor((now - this.maxAgeMs) / 1000);
  }

  async save(owner: string, s: Stored): Promise<void> {
    const id = String(s.response.id);
    const at = typeof s.response.created_at === 'number' ? s.response.created_at : Math.floor(Date.now() / 1000);
    await this.db.query('INSERT INTO {t:responses} (id, owner, created_at, response, input) VALUES (?, ?, ?, ?, ?)', [
      id,
      owner,
      at,
      this.db.json(s.response),
      this.db.json(s.input),
    ]);
  }

  /** A stored response, only when `owner` stored it. */
  async get(owner: string, id: string): Promise<Stored | undefined> {
    const rows = await this.db.query('SELECT response, input FROM {t:responses} WHERE id = ? AND owner = ? AND created_at >= ?', [
      id,
      owner,
      this.#cutoff(),
    ]);
    const row = rows[0];
    return row ? { response: this.db.readJson(row.response) as Json, input: this.db.readJson(row.input) as Json[] } : undefined;
  }

  async delete(owner: string, id: string): Promise<boolean> {
    const found = await this.get(owner, id);
    if (found) await this.db.query('DELETE FROM {t:responses} WHERE id = ? AND owner = ?', [id, owner]);
    return found !== undefined;
  }

  /** Deletes the responses past the age limit; how many. */
  async prune(now = Date.now()): Promise<number> {
    if (this.maxAgeMs === undefined) return 0;
    return (await this.db.query('DELETE FROM {t:responses} WHERE created_at < ? RETURNING id', [this.#cutoff(now)])).length;
  }
}
