// A loopback fake of Workers AI's REST API: `POST /client/v4/accounts/{id}/ai/run/{model}` with a
// Bearer token, answering in Cloudflare's envelope. Text models answer `{messages}` or `{prompt}`
// (echoing the last user text), streamed as `data: {"response"}` events and `data: [DONE]` when asked;
// `@cf/baai/*` models embed `{text}` as vectors of [length, index, 1]. `fault` plays a cut stream, an
// event that is not JSON, or an error envelope. Every request is recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

export interface Seen {
  method: string;
  url: string;
  authorization?: string;
  body: Json;
}

export type Fault = 'none' | 'cut' | 'not-json' | 'error-envelope';

const RUN = /^\/client\/v4\/accounts\/([0-9a-f]{32})\/ai\/run\/(@[a-z]+\/.+)$/;

export class FakeWorkersAI {
  readonly seen: Seen[] = [];
  fault: Fault = 'none';
  token = 'cf-token';
  url = '';
  #server!: http.Server;

  static async start(): Promise<FakeWorkersAI> {
    const f = new FakeWorkersAI();
    f.#server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => f.#answer(req, raw, res));
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  #answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    let body: Json = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      /* answered below */
    }
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    const envelope = (status: number, code: number, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: null, success: false, errors: [{ code, message }], messages: [] }));
    };
    const m = RUN.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return envelope(404, 7000, 'No route for that URI');
    if (req.headers.authorization !== `Bearer ${this.token}`) return envelope(401, 10000, 'Authentication error');
    const model = m[2]!;
    if (model.startsWith('@cf/baai/')) {
      const text: unknown[] = Array.isArray(body.text) ? body.text : [body.text];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          result: { shape: [text.length, 3], data: text.map((t, i) => [String(t).length, i, 1]), pooling: 'mean' },
          success: true,
          errors: [],
          messages: [],
        }),
      );
      return;
    }
    const said =
      typeof body.prompt === 'string'
        ? body.prompt
        : String((body.messages as Json[] | undefined)?.filter((x) => x.role === 'user').at(-1)?.content ?? '');
    const words = ['You', ' said:', ` ${said}`];
    const usage = { prompt_tokens: said.length, completion_tokens: words.length, total_tokens: said.length + words.length };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { response: words.join(''), usage }, success: true, errors: [], messages: [] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const w of words) res.write(`data: ${JSON.stringify({ response: w, p: 'abcdef' })}\n\n`);
    // The pieces reach the client before the connection is cut.
    if (this.fault === 'cut') return void res.write('', () => setTimeout(() => res.destroy(), 50));
    if (this.fault === 'not-json') return void res.end('data: {"response": tru\n\n');
    if (this.fault === 'error-envelope')
      return void res.end(
        `data: ${JSON.stringify({ success: false, errors: [{ code: 3040, message: 'No more data centers to forward the request to' }] })}\n\n`,
      );
    res.end(`data: ${JSON.stringify({ response: '', usage })}\n\ndata: [DONE]\n\n`);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
