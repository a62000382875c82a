// Loopback upstreams for the end-to-end tests: real HTTP servers on 127.0.0.1 that record the exact
// bytes they receive and answer from a handler the test sets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The request body exactly as it arrived. */
  raw: Buffer;
  body: any;
}

export type Handler = (req: Received, res: http.ServerResponse) => void;

export class Loopback {
  readonly received: Received[] = [];
  /** Handlers used in turn, one per request; `fallback` answers once they run out. */
  script: Handler[] = [];
  fallback: Handler = (_req, res) => json(res, 500, { error: 'no handler' });
  url = '';
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<Loopback> {
    const server = http.createServer();
    const lb = new Loopback(server);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        let body: unknown;
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          body = undefined;
        }
        const rec: Received = { method: req.method!, path: req.url!, headers: req.headers, raw, body };
        lb.received.push(rec);
        (lb.script.shift() ?? lb.fallback)(rec, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    lb.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return lb;
  }

  reset(): void {
    this.received.length = 0;
    this.script = [];
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** Writes SSE frames one write each; `cut` destroys the socket after them instead of ending cleanly. */
export function sse(res: http.ServerResponse, frames: readonly string[], opts: { cut?: boolean } = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const f of frames) res.write(f);
  if (opts.cut) {
    // Let the frames leave before the reset, so the gateway sees content first.
    res.socket?.end();
    setImmediate(() => res.destroy());
  } else res.end();
}

/** OpenAI `data:` frames for payloads. */
export const openAIFrames = (datas: readonly string[]): string[] => datas.map((d) => `data: ${d}\n\n`);
