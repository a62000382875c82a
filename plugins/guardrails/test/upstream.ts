// Test only: a fake upstream on loopback that speaks OpenAI's chat and completions formats and
// Anthropic's Messages format, JSON or streamed. Targets point their custom_host at `<url>/<name>`;
// every request is recorded with its name and body, and `status[name]` makes a name fail.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  name: string;
  path: string;
  body: any;
  /** The request's authorization header, if any. */
  authorization?: string;
}

export interface StreamWatch {
  /** Resolves when the connection of the streamed answer closed, with whether the fake had finished it. */
  closed: Promise<{ finished: boolean; sent: number }>;
}

export class FakeUpstream {
  readonly received: Received[] = [];
  /** The answer's text. */
  reply = 'Hello there, friend';
  /** Streamed answers are sent in these pieces (default: the reply word by word). */
  chunks: string[] | undefined;
  /** After the scripted chunks, keep the stream open (sending nothing) until the client goes away. */
  hang = false;
  status: Record<string, number> = {};
  /** The last streamed answer's connection. */
  lastStream: StreamWatch | undefined;
  url = '';
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeUpstream> {
    const server = http.createServer();
    const up = new FakeUpstream(server);
    server.on('request', (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => up.#answer(req, res, Buffer.concat(parts).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return up;
  }

  reset(): void {
    this.received.length = 0;
    this.reply = 'Hello there, friend';
    this.chunks = undefined;
    this.hang = false;
    this.status = {};
    this.lastStream = undefined;
  }

  /** A leaf of a routing config that calls this upstream as `name`. */
  leaf(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { provider: 'openai', api_key: `sk-${name}`, custom_host: `${this.url}/${name}`, ...extra };
  }

  hits(name?: string): number {
    return name === undefined ? this.received.length : this.received.filter((r) => r.name === name).length;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const path = req.url ?? '/';
    const name = path.split('/')[1] ?? '';
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    this.received.push({ name, path, body, authorization: req.headers.authorization });
    const status = this.status[name] ?? 200;
    if (status >= 400) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `${name} failed with ${status}`, type: 'server_error', param: null, code: null } }));
      return;
    }
    const kind = path.endsWith('/messages') ? 'messages' : path.endsWith('/completions') && !path.endsWith('/chat/completions') ? 'completions' : 'chat';
    if (body?.stream === true) return this.#stream(kind, res, body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.#json(kind, body)));
  }

  #json(kind: string, body: any): unknown {
    const model = body?.model ?? 'm';
    if (kind === 'messages') {
      return {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: this.reply }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 4 },
      };
    }
    if (kind === 'completions') {
      return {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model,
        choices: [{ index: 0, text: this.reply, logprobs: null, finish_reason: 'stop' }],
      };
    }
    return {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: this.reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    };
  }

  #stream(kind: string, res: http.ServerResponse, body: any): void {
    const model = body?.model ?? 'm';
    const pieces = this.chunks ?? this.reply.split(/(?<= )/);
    const frames: string[] = [];
    const data = (json: unknown) => `data: ${JSON.stringify(json)}\n\n`;
    const named = (event: string, json: unknown) => `event: ${event}\ndata: ${JSON.stringify(json)}\n\n`;
    if (kind === 'messages') {
      frames.push(
        named('message_start', {
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: null,
            usage: { input_tokens: 3, output_tokens: 0 },
          },
        }),
      );
      frames.push(named('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      for (const p of pieces) frames.push(named('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }));
    } else if (kind === 'completions') {
      for (const p of pieces)
        frames.push(
          data({ id: 'cmpl-1', object: 'text_completion', created: 1, model, choices: [{ index: 0, text: p, logprobs: null, finish_reason: null }] }),
        );
    } else {
      const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model };
      frames.push(data({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }));
      for (const p of pieces) frames.push(data({ ...head, choices: [{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }] }));
    }
    const tail: string[] = [];
    if (kind === 'messages') {
      tail.push(named('content_block_stop', { type: 'content_block_stop', index: 0 }));
      tail.push(named('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }));
      tail.push(named('message_stop', { type: 'message_stop' }));
    } else if (kind === 'completions') {
      tail.push(
        data({ id: 'cmpl-1', object: 'text_completion', created: 1, model, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] }),
      );
      tail.push('data: [DONE]\n\n');
    } else {
      tail.push(
        data({
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: 1,
          model,
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
        }),
      );
      tail.push('data: [DONE]\n\n');
    }

    let sent = 0;
    let finished = false;
    this.lastStream = { closed: new Promise((resolve) => res.once('close', () => resolve({ finished, sent }))) };
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const all = this.hang ? frames : [...frames, ...tail];
    // One frame per turn of the event loop, so the gateway sees them one by one.
    const next = () => {
      if (res.destroyed) return;
      if (sent < all.length) {
        res.write(all[sent++]!);
        setImmediate(next);
      } else if (!this.hang) {
        finished = true;
        res.end();
      }
    };
    next();
  }
}
