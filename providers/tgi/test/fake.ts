// A loopback Text Generation Inference server: POST /generate and /generate_stream as TGI's API
// reference documents them (GenerateRequest in; GenerateResponse, or StreamResponse events ending
// with the one that carries generated_text and details; ErrorResponse on 401, 422). Its "model"
// answers the words of `inputs` back, one token per word, up to max_new_tokens.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export class FakeTgi {
  readonly hits: Hit[] = [];
  /** When set, requests must carry `Authorization: Bearer <key>` (TGI's --api-key). */
  key: string | undefined;
  /** Streams stop after this many token events, the connection closed (a cut stream). */
  cutAfter: number | undefined;
  url = '';
  #server!: http.Server;

  static async start(key?: string): Promise<FakeTgi> {
    const f = new FakeTgi();
    f.key = key;
    f.#server = http.createServer((req, res) => f.#handle(req, res));
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      this.hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      if (this.key !== undefined && req.headers.authorization !== `Bearer ${this.key}`)
        return json(401, { error: 'Unauthorized', error_type: 'unauthorized' });
      if (req.method === 'GET' && req.url === '/info')
        return json(200, { model_id: 'mistralai/Mistral-7B-Instruct-v0.3', max_input_tokens: 4095, max_total_tokens: 4096, version: '3.3.4' });
      if (req.method !== 'POST' || (req.url !== '/generate' && req.url !== '/generate_stream'))
        return json(404, { error: 'Not Found', error_type: 'not_found' });
      const invalid = this.#validate(body);
      if (invalid) return json(422, { error: `Input validation error: ${invalid}`, error_type: 'validation' });
      const { tokens, finish, inputLength } = this.#generate(body);
      const generated = tokens
        .filter((t) => !t.special)
        .map((t) => t.text)
        .join('');
      const details = body.parameters?.details === true;
      if (req.url === '/generate') {
        // TGI says the prompt's length only in headers (x-prompt-tokens), beside its timings.
        return json(
          200,
          {
            generated_text: generated,
            ...(details ? { details: { finish_reason: finish, generated_tokens: tokens.length, seed: null, prefill: [], tokens } } : {}),
          },
          { 'x-compute-type': 'gpu+optimized', 'x-prompt-tokens': String(inputLength), 'x-generated-tokens': String(tokens.length) },
        );
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      tokens.forEach((token, i) => {
        if (this.cutAfter !== undefined && i >= this.cutAfter) return;
        const last = i === tokens.length - 1;
        const ev = {
          index: i + 1,
          token,
          generated_text: last ? generated : null,
          details: last && details ? { finish_reason: finish, generated_tokens: tokens.length, seed: null, input_length: inputLength } : null,
        };
        res.write(`data:${JSON.stringify(ev)}\n\n`);
      });
      if (this.cutAfter !== undefined) setTimeout(() => res.destroy(), 100);
      else res.end();
    });
  }

  /** What TGI's validation refuses (a subset): no inputs, a temperature that is not positive, top_p outside (0, 1). */
  #validate(body: any): string | undefined {
    if (typeof body?.inputs !== 'string' || body.inputs === '') return '`inputs` cannot be empty';
    const p = body.parameters ?? {};
    if (p.temperature !== undefined && !(p.temperature > 0)) return '`temperature` must be strictly positive';
    if (p.top_p !== undefined && !(p.top_p > 0 && p.top_p < 1)) return '`top_p` must be > 0.0 and < 1.0';
    return undefined;
  }

  #generate(body: any): { tokens: Array<{ id: number; text: string; logprob: number; special: boolean }>; finish: string; inputLength: number } {
    const words = body.inputs.split(/\s+/).filter(Boolean);
    const max: number = body.parameters?.max_new_tokens ?? 100;
    const out = words.map((w: string, i: number) => ({ id: 100 + i, text: i === 0 ? w : ` ${w}`, logprob: -0.5, special: false }));
    if (out.length >= max) return { tokens: out.slice(0, max), finish: 'length', inputLength: words.length };
    return { tokens: [...out, { id: 2, text: '</s>', logprob: -0.1, special: true }], finish: 'eos_token', inputLength: words.length };
  }

  reset(): void {
    this.hits.length = 0;
    this.cutAfter = undefined;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
