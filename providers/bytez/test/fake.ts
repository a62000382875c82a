// A loopback fake of Bytez's model API: `POST /models/v2/{modelId}` answered with a scripted JSON body
// (`{error, output}`) or a scripted plain-text stream (written in pieces, one byte at a time, or cut
// short by closing the connection). It records every request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Script {
  status?: number;
  headers?: Record<string, string>;
  /** A JSON answer (an object is serialized; a string is sent as it is). */
  body?: unknown;
  /** A text stream, in the pieces it is written in (instead of `body`). */
  parts?: string[];
  /** Write the stream one byte at a time. */
  bytewise?: boolean;
  /** Destroy the connection after this many bytes of the stream (a cut stream). */
  cutAfter?: number;
}

export class FakeBytez {
  readonly requests: Recorded[] = [];
  /** What each request is answered, in turn; the last one repeats. */
  scripts: Script[] = [{ body: { error: null, output: { role: 'assistant', content: 'ok' } } }];
  #server!: http.Server;
  url = '';

  static async start(): Promise<FakeBytez> {
    const f = new FakeBytez();
    f.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        f.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const s = f.scripts[Math.min(f.requests.length - 1, f.scripts.length - 1)]!;
        f.#answer(s, res);
      });
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  /** The base URL a target points its custom host at. */
  get base(): string {
    return `${this.url}/models/v2`;
  }

  reset(...scripts: Script[]): void {
    this.requests.length = 0;
    if (scripts.length) this.scripts = scripts;
  }

  #answer(s: Script, res: http.ServerResponse): void {
    if (!s.parts) {
      res.writeHead(s.status ?? 200, { 'content-type': 'application/json', ...s.headers });
      res.end(typeof s.body === 'string' ? s.body : JSON.stringify(s.body));
      return;
    }
    res.writeHead(s.status ?? 200, { 'content-type': 'text/plain; charset=utf-8', ...s.headers });
    const bytes = s.parts.map((p) => Buffer.from(p, 'utf8'));
    const pieces = s.bytewise ? bytes.flatMap((b) => [...b].map((x) => Buffer.from([x]))) : bytes;
    let sent = 0;
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (s.cutAfter !== undefined && sent >= s.cutAfter) return void res.destroy();
      if (i >= pieces.length) return void res.end();
      let piece = pieces[i++]!;
      if (s.cutAfter !== undefined && sent + piece.length > s.cutAfter) piece = piece.subarray(0, s.cutAfter - sent);
      sent += piece.length;
      res.write(piece, () => setImmediate(next));
    };
    next();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
