// A loopback fake of Ollama's native API: `POST /api/chat`, `/api/generate`, `/api/embed` and
// `GET /api/tags`, answering `{"error": "..."}` for a model it does not have. Chat and generate echo
// the last user text, streamed as NDJSON lines (the last with "done": true and the counters) unless
// `"stream": false`; embed answers vectors of [length, index, 1]. `fault` plays a cut stream, a line
// that is not JSON or an error line; `bytewise` writes a stream one byte at a time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>;

export type Fault = 'none' | 'cut' | 'not-json' | 'error-line';

export class FakeOllama {
  readonly seen: Array<{ method: string; url: string; authorization?: string; body: Json }> = [];
  readonly models = ['llama3.2:latest', 'all-minilm:latest'];
  fault: Fault = 'none';
  bytewise = false;
  url = '';
  #server!: http.Server;

  static async start(): Promise<FakeOllama> {
    const f = new FakeOllama();
    f.#server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => f.#answer(req, raw, res));
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  #has(model: unknown): boolean {
    return typeof model === 'string' && (this.models.includes(model) || this.models.includes(`${model}:latest`));
  }

  async #write(res: http.ServerResponse, text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const pieces = this.bytewise ? [...bytes].map((b) => Buffer.from([b])) : [bytes];
    for (const p of pieces) await new Promise<void>((resolve) => res.write(p, () => resolve()));
  }

  async #answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): Promise<void> {
    let body: Json = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      /* answered below */
    }
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/api/tags') {
      return json(200, {
        models: this.models.map((m) => ({ name: m, model: m, modified_at: '2024-12-01T10:00:00Z', size: 1, digest: 'd', details: {} })),
      });
    }
    if (req.method !== 'POST' || !['/api/chat', '/api/generate', '/api/embed'].includes(req.url ?? '')) return json(404, { error: '404 page not found' });
    if (!this.#has(body.model)) return json(404, { error: `model "${body.model}" not found, try pulling it first` });
    const meta = { model: body.model, created_at: '2024-12-04T21:00:00.000000Z' };
    if (req.url === '/api/embed') {
      const input: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
      return json(200, { model: body.model, embeddings: input.map((t, i) => [String(t).length, i, 1]), prompt_eval_count: input.length });
    }
    const chat = req.url === '/api/chat';
    const said = chat ? String((body.messages as Json[]).filter((m) => m.role === 'user').at(-1)?.content ?? '') : String(body.prompt);
    const words = ['You', ' said:', ` ${said}`];
    const counts = { prompt_eval_count: said.length, eval_count: words.length, total_duration: 1000, load_duration: 10 };
    const piece = (text: string) => (chat ? { message: { role: 'assistant', content: text } } : { response: text });
    if (body.stream === false) return json(200, { ...meta, ...piece(words.join('')), done: true, done_reason: 'stop', ...counts });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const w of words) await this.#write(res, `${JSON.stringify({ ...meta, ...piece(w), done: false })}\n`);
    // The pieces reach the client before the connection is cut.
    if (this.fault === 'cut') return void setTimeout(() => res.destroy(), 50);
    if (this.fault === 'not-json') return void res.end('{"model": "llama3.2", "done": tr\n');
    if (this.fault === 'error-line')
      return void res.end(`${JSON.stringify({ error: 'an error was encountered while running the model: unexpected EOF' })}\n`);
    await this.#write(res, `${JSON.stringify({ ...meta, ...piece(''), done: true, done_reason: 'stop', ...counts })}\n`);
    res.end();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
