// Test support: the PostgreSQL the tests use (DATABASE_URL), the "does it answer?" check with the CI
// rule (under CI=true a missing Postgres fails the suite instead of skipping it), and a schema of the
// run's own, dropped afterwards, so that parallel runs never see each other's tables.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createLogger, redactUrl } from '@waygate/core';

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

export interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/**
 * An OpenAI-shaped upstream on loopback that records every request (path, headers, body). A path's
 * first segment names the target (`/<name>/v1/chat/completions`); `status[name]` makes it fail.
 */
export class Recorder {
  readonly seen: Seen[] = [];
  status: Record<string, number> = {};
  url = '';
  #server!: http.Server;

  static async start(): Promise<Recorder> {
    const r = new Recorder();
    r.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text ? JSON.parse(text) : undefined;
        const name = (req.url ?? '/').split('/')[1] ?? '';
        r.seen.push({ path: req.url ?? '/', headers: req.headers, body });
        const status = r.status[name] ?? 200;
        const answer =
          status >= 400
            ? { error: { message: `${name} failed`, type: 'server_error' } }
            : req.url?.endsWith('/embeddings')
              ? {
                  object: 'list',
                  data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
                  model: body?.model,
                  usage: { prompt_tokens: 1, total_tokens: 1 },
                }
              : {
                  id: 'c1',
                  object: 'chat.completion',
                  created: 1,
                  model: body?.model ?? 'm',
                  choices: [{ index: 0, message: { role: 'assistant', content: `from ${name}` }, finish_reason: 'stop' }],
                  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
                };
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => r.#server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.#server.address() as AddressInfo).port}`;
    return r;
  }

  /** Every header value of every request seen, as one text (to look for a key that must not be there). */
  allHeaders(): string {
    return this.seen.map((s) => JSON.stringify(s.headers)).join('\n');
  }

  reset(): void {
    this.seen.length = 0;
    this.status = {};
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Every line a gateway logs, kept as text (pino's own output, redaction applied). */
export class LineLog {
  readonly lines: string[] = [];
  readonly logger = createLogger({ level: 'trace', destination: { write: (line: string) => void this.lines.push(line) } });

  records(): Array<Record<string, any>> {
    return this.lines.flatMap((l) => l.split('\n').filter((x) => x.trim())).map((x) => JSON.parse(x) as Record<string, any>);
  }

  text(): string {
    return this.lines.join('');
  }
}
