import type { Migration } from '@waygate/store';

export type { Migration };

/**
 * The auth plugin's schema (owner `auth` in `@waygate/store`'s per-owner migrations): never edit a
 * migration that shipped, add the next number.
 *
 * Every row has a `version`, 1 when made and one more at each change (a revocation too): what a
 * replica compares to know whether what it holds is current.
 */
const policyColumns = (json: string) =>
  ['models', 'providers', 'endpoints', 'config', 'metadata', 'rate_limit', 'budget'].map((c) => `${c} ${json}`).join(',\n  ');

const teams = (json: string, time: string) => `CREATE TABLE {t:teams} (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  ${policyColumns(json)},
  created_at ${time} NOT NULL,
  updated_at ${time} NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
)`;

const keys = (json: string, time: string) => `CREATE TABLE {t:keys} (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  name TEXT NOT NULL,
  team TEXT REFERENCES {t:teams}(id) ON DELETE SET NULL,
  ${policyColumns(json)},
  expires_at ${time},
  created_at ${time} NOT NULL,
  updated_at ${time} NOT NULL,
  revoked_at ${time},
  version INTEGER NOT NULL DEFAULT 1
)`;

/**
 * Migration 2: one row per answered request (or one refused after its upstream call), written in
 * batches off the request path: who (key, team), what (model, provider, endpoint), the tokens, and
 * the cost in USD (NULL when the model has no known price; `estimated` 1 when the tokens were
 * estimated because the upstream reported none, e.g. a stream the client abandoned).
 */
const spend = (id: string, time: string) => `CREATE TABLE {t:spend} (
  id ${id},
  at ${time} NOT NULL,
  key_id TEXT NOT NULL,
  team TEXT,
  model TEXT,
  provider TEXT,
  endpoint TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd DOUBLE PRECISION,
  estimated INTEGER NOT NULL DEFAULT 0
)`;

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'keys and teams',
    sqlite: [teams('TEXT', 'TEXT'), keys('TEXT', 'TEXT'), 'CREATE INDEX {t:keys_team} ON {t:keys}(team)'].join(';\n'),
    postgres: [teams('JSONB', 'TIMESTAMPTZ'), keys('JSONB', 'TIMESTAMPTZ'), 'CREATE INDEX keys_team ON {t:keys}(team)'].join(';\n'),
  },
  {
    version: 2,
    name: 'spend',
    sqlite: [
      spend('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT'),
      'CREATE INDEX {t:spend_key_at} ON {t:spend}(key_id, at)',
      'CREATE INDEX {t:spend_team_at} ON {t:spend}(team, at)',
      'CREATE INDEX {t:spend_at} ON {t:spend}(at)',
    ].join(';\n'),
    postgres: [
      spend('BIGSERIAL PRIMARY KEY', 'TIMESTAMPTZ'),
      'CREATE INDEX spend_key_at ON {t:spend}(key_id, at)',
      'CREATE INDEX spend_team_at ON {t:spend}(team, at)',
      'CREATE INDEX spend_at ON {t:spend}(at)',
    ].join(';\n'),
  },
  {
    version: 3,
    name: 'a spend row stands for several requests',
    // Rows are summed per key, team, model, provider, endpoint and minute before they are written;
    // `estimated` counts the row's requests whose tokens were estimated.
    sqlite: 'ALTER TABLE {t:spend} ADD COLUMN requests INTEGER NOT NULL DEFAULT 1',
    postgres: 'ALTER TABLE {t:spend} ADD COLUMN requests INTEGER NOT NULL DEFAULT 1',
  },
]);
