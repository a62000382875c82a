// A loopback fake of Replicate's HTTP API: predictions created on a model, a version or a deployment,
// read back (GET urls.get), canceled, and streamed (GET urls.stream, server-sent events). Each test
// scripts what creation answers, what each read answers in turn, and what the stream sends.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** When it arrived (performance.now()). */
  at: number;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface StreamScript {
  status?: number;
  /** The SSE transcript, in the pieces it is written in. */
  parts: string[];
  /** Write it one byte at a time. */
  bytewise?: boolean;
  /** Close the connection after this many bytes (a cut stream). */
  cutAfter?: number;
}

export class FakeReplicate {
  readonly requests: Recorded[] = [];
  /** The answer to the prediction's creation. */
  create: Answer = { body: {} };
  /** The answers to reads of the prediction, in turn; the last one repeats. */
  reads: Answer[] = [];
  stream: StreamScript = { parts: [] };
  #server!: http.Server;
  url = '';

  static async start(): Promise<FakeReplicate> {
    const f = new FakeReplicate();
    f.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        f.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() });
        f.#route(req, res);
      });
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  /** The base URL a target points its custom host at. */
  get base(): string {
    return `${this.url}/v1`;
  }

  /** A recorded prediction with its Replicate URLs moved to this fake. */
  local<T>(prediction: T): T {
    return JSON.parse(JSON.stringify(prediction).replaceAll('https://api.replicate.com', this.url).replaceAll('https://stream.replicate.com', this.url));
  }

  reset(): void {
    this.requests.length = 0;
    this.create = { body: {} };
    this.reads = [];
    this.stream = { parts: [] };
  }

  /** The requests made with this method to a path that starts with `prefix`. */
  calls(method: string, prefix: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.url.startsWith(prefix));
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url.endsWith('/cancel')) return this.#send(res, { body: { status: 'canceled' } });
    if (req.method === 'POST' && url.endsWith('/predictions')) return this.#send(res, { status: 201, ...this.create });
    if (req.method === 'GET' && url.startsWith('/v1/predictions/')) {
      const next = this.reads.length > 1 ? this.reads.shift()! : this.reads[0];
      return this.#send(res, next ?? { status: 404, body: { title: 'Not found', detail: 'no such prediction', status: 404 } });
    }
    if (req.method === 'GET' && url.startsWith('/v1/files/')) return this.#stream(res);
    this.#send(res, { status: 404, body: { title: 'Not found', detail: `no route ${req.method} ${url}`, status: 404 } });
  }

  #send(res: http.ServerResponse, a: Answer): void {
    const write = () => {
      if (res.destroyed) return;
      const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status ?? 200, { 'content-type': a.status && a.status >= 400 ? 'application/problem+json' : 'application/json', ...a.headers });
      res.end(body);
    };
    if (a.delayMs) setTimeout(write, a.delayMs);
    else write();
  }

  #stream(res: http.ServerResponse): void {
    const s = this.stream;
    if (s.status && s.status >= 400)
      return this.#send(res, { status: s.status, body: { title: 'Error', detail: `stream failed with ${s.status}`, status: s.status } });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    let bytes = s.parts.map((p) => Buffer.from(p, 'utf8'));
    if (s.cutAfter !== undefined) {
      const all = Buffer.concat(bytes).subarray(0, s.cutAfter);
      bytes = [all];
    }
    const pieces = s.bytewise ? bytes.flatMap((b) => [...b].map((x) => Buffer.from([x]))) : bytes;
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i >= pieces.length) {
        if (s.cutAfter !== undefined) res.destroy();
        else res.end();
        return;
      }
      res.write(pieces[i++], () => setImmediate(next));
    };
    next();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
