import type { Migration } from '@waygate/store';

/** The owner the request log's schema versions are recorded under in `waygate_migrations`. */
export const OWNER = 'request-log';

const table = (json: string, time: string, real: string) => `CREATE TABLE {t:request_log} (
  id TEXT PRIMARY KEY,
  at ${time} NOT NULL,
  key_id TEXT,
  key_name TEXT,
  team TEXT,
  endpoint TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  provider TEXT,
  model TEXT,
  target_path TEXT,
  status INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  stream INTEGER NOT NULL,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_tokens INTEGER,
  cost_usd ${real},
  total_ms ${real} NOT NULL,
  upstream_ms ${real} NOT NULL,
  ttft_ms ${real},
  retries INTEGER NOT NULL,
  cache TEXT,
  guardrails TEXT,
  error TEXT,
  detail ${json},
  request_body ${json},
  response_body ${json}
)`;

/** Never edit a shipped migration: add the next version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'request_log',
    sqlite: [
      table('TEXT', 'TEXT', 'REAL'),
      'CREATE INDEX {t:request_log_at} ON {t:request_log}(at, id)',
      'CREATE INDEX {t:request_log_key_at} ON {t:request_log}(key_id, at)',
    ].join(';\n'),
    postgres: [
      table('JSONB', 'TIMESTAMPTZ', 'DOUBLE PRECISION'),
      'CREATE INDEX request_log_at ON {t:request_log}(at, id)',
      'CREATE INDEX request_log_key_at ON {t:request_log}(key_id, at)',
    ].join(';\n'),
  },
];
