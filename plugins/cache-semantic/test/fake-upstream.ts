// A loopback OpenAI-format upstream for these tests: chat completions (JSON and SSE), legacy
// completions and embeddings whose vectors the test controls. Each chat answer says which call it
// was ("answer #3"), so a response served from the cache is recognisable by its text.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  path: string;
  body: any;
  authorization: string | undefined;
}

/** Eight-dimensional vectors: e(i) is the i-th basis vector. */
export const DIMS = 8;

export function basis(i: number): number[] {
  const v = new Array<number>(DIMS).fill(0);
  v[i] = 1;
  return v;
}

/** A unit vector whose cosine similarity with basis(i) is exactly `cos` (it leans towards basis(j)). */
export function near(i: number, cos: number, j = (i + 1) % DIMS): number[] {
  const v = new Array<number>(DIMS).fill(0);
  v[i] = cos;
  v[j] = Math.sqrt(1 - cos * cos);
  return v;
}

/**
 * The default vector of a text when the test set none: a bag of words hashed into DIMS buckets, so
 * texts with the same words map to the same direction.
 */
export function bagOfWords(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (!w) continue;
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % DIMS]! += 1;
  }
  return v;
}

export class FakeModel {
  readonly calls: Recorded[] = [];
  /** Vectors by exact input text. */
  readonly vectors = new Map<string, number[]>();
  /** Statuses to answer the next chat/completions calls with (then 200). */
  chatStatus: number[] = [];
  /** Statuses to answer the next embeddings calls with (then 200). */
  embedStatus: number[] = [];
  /** Cut the next chat stream after its first content chunk (no [DONE]). */
  cutNextStream = false;
  /** Hold embeddings answers until `release()`; `embedAborted` counts held calls whose client went away. */
  holdEmbeddings = false;
  embedAborted = 0;
  #held: Array<() => void> = [];
  url = '';
  #server!: http.Server;
  #n = 0;

  static async start(): Promise<FakeModel> {
    const f = new FakeModel();
    f.#server = http.createServer((req, res) => f.#handle(req, res));
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  /** Calls to a path since the last reset. */
  count(path: '/v1/chat/completions' | '/v1/embeddings' | '/v1/completions'): number {
    return this.calls.filter((c) => c.path === path).length;
  }

  get chats(): number {
    return this.count('/v1/chat/completions') + this.count('/v1/completions');
  }

  get embeds(): number {
    return this.count('/v1/embeddings');
  }

  reset(): void {
    this.calls.length = 0;
    this.vectors.clear();
    this.chatStatus = [];
    this.embedStatus = [];
    this.cutNextStream = false;
    this.holdEmbeddings = false;
    this.embedAborted = 0;
    this.release();
  }

  /** Answers the held embeddings calls. */
  release(): void {
    for (const fn of this.#held.splice(0)) fn();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      this.calls.push({ path, body, authorization: req.headers.authorization });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const fail = (status: number) => json(status, { error: { message: `fake upstream says ${status}`, type: 'server_error', param: null, code: null } });

      if (path === '/v1/embeddings') {
        const status = this.embedStatus.shift();
        if (status !== undefined && status >= 400) return fail(status);
        const input = String(body?.input ?? '');
        const vector = this.vectors.get(input) ?? bagOfWords(input);
        if (this.holdEmbeddings) {
          res.once('close', () => {
            if (!res.writableFinished) this.embedAborted++;
          });
          this.#held.push(() => {
            if (!res.destroyed) json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: vector }], model: body?.model });
          });
          return;
        }
        return json(200, {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: vector }],
          model: body?.model,
          usage: { prompt_tokens: 1, total_tokens: 1 },
        });
      }
      if (path !== '/v1/chat/completions' && path !== '/v1/completions') return fail(404);
      const status = this.chatStatus.shift();
      if (status !== undefined && status >= 400) return fail(status);
      const n = ++this.#n;
      const text = `answer #${n}`;
      const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
      if (path === '/v1/completions') {
        return json(200, {
          id: `cmpl-${n}`,
          object: 'text_completion',
          created: 1,
          model: body?.model,
          choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
          usage,
        });
      }
      if (body?.stream !== true) {
        return json(200, {
          id: `chatcmpl-${n}`,
          object: 'chat.completion',
          created: 1,
          model: body?.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage,
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null = null) =>
        `data: ${JSON.stringify({ id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }));
      res.write(chunk({ content: 'answer ' }));
      if (this.cutNextStream) {
        this.cutNextStream = false;
        // Let the content reach the gateway first, then cut the connection (no [DONE]).
        setTimeout(() => res.destroy(), 50);
        return;
      }
      res.write(chunk({ content: `#${n}` }));
      res.write(chunk({}, 'stop'));
      if (body.stream_options?.include_usage) {
        res.write(
          `data: ${JSON.stringify({ id: `chatcmpl-${n}`, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage })}\n\n`,
        );
      }
      res.end('data: [DONE]\n\n');
    });
  }
}
