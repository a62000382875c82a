// A loopback fake of Triton's HTTP frontend with the generate extension: `POST
// /v2/models/{model}[/versions/{v}]/generate` (one JSON answer) and `/generate_stream` (SSE, one
// `data:` answer per piece, no end marker), `POST /v2/repository/index`, and `{"error": "..."}` for a
// model it does not serve. It echoes the text after the prompt's last `User: `. `fault` plays an error
// object mid-stream, an event that is not JSON, or a cut connection.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

export type Fault = 'none' | 'error-event' | 'not-json' | 'cut';

const GENERATE = /^\/v2\/models\/([^/]+)(?:\/versions\/(\d+))?\/(generate|generate_stream)$/;

export class FakeTriton {
  readonly seen: Array<{ url: string; body: Json }> = [];
  readonly models = ['ensemble', 'vllm_model'];
  fault: Fault = 'none';
  url = '';
  #server!: http.Server;

  static async start(): Promise<FakeTriton> {
    const f = new FakeTriton();
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
    const body: Json = raw ? JSON.parse(raw) : {};
    this.seen.push({ url: req.url ?? '', body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'POST' && req.url === '/v2/repository/index')
      return json(
        200,
        this.models.map((name) => ({ name, version: '1', state: 'READY' })),
      );
    const m = GENERATE.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return json(404, { error: 'Not Found' });
    if (!this.models.includes(m[1]!)) return json(400, { error: `Request for unknown model: '${m[1]}' is not found` });
    if (typeof body.text_input !== 'string') return json(400, { error: "expected 'text_input' in the request" });
    const said = body.text_input
      .split('User: ')
      .at(-1)!
      .replace(/\nAssistant:$/, '');
    const pieces = ['You', ' said:', ` ${said}`];
    const answer = (text: string) => ({ model_name: m[1], model_version: m[2] ?? '1', text_output: text });
    if (m[3] === 'generate') return json(200, answer(pieces.join('')));
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    for (const p of pieces) res.write(`data: ${JSON.stringify(answer(p))}\n\n`);
    // The pieces reach the client before the connection is cut.
    if (this.fault === 'cut') return void res.write('', () => setTimeout(() => res.destroy(), 50));
    if (this.fault === 'not-json') return void res.end('data: {"text_output": \n\n');
    if (this.fault === 'error-event') return void res.end(`data: ${JSON.stringify({ error: 'Executor failed to process the request' })}\n\n`);
    res.end();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
