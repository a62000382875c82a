// Test support: a recording upstream and a log capture; the PostgreSQL helpers are @waygate/auth/testing's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@waygate/core';

export { DATABASE_URL, dropSchema, postgresUnreachable, requirePostgres, runSchema } from '../src/testing.js';

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
