// A minimal OpenAI chat upstream on loopback for plugin packages' end-to-end tests: it records each request body
// and answers `reply` as a chat.completion, or as a chunk stream (one chunk per word) when asked.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class OpenAIFake {
  readonly bodies: any[] = [];
  reply = 'Hello there, friend';
  url = '';
  #server!: http.Server;

  static async start(): Promise<OpenAIFake> {
    const f = new OpenAIFake();
    f.#server = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
        f.bodies.push(body);
        const head = { id: 'chatcmpl-1', created: 1, model: body.model ?? 'm' };
        if (!body.stream) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              ...head,
              object: 'chat.completion',
              choices: [{ index: 0, message: { role: 'assistant', content: f.reply }, finish_reason: 'stop' }],
            }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null = null) =>
          `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        const words = f.reply.split(/(?<= )/);
        const events = [chunk({ role: 'assistant', content: '' }), ...words.map((w) => chunk({ content: w })), chunk({}, 'stop'), 'data: [DONE]\n\n'];
        let i = 0;
        const next = () => {
          if (res.destroyed) return;
          if (i === events.length) return void res.end();
          res.write(events[i++]);
          setImmediate(next);
        };
        next();
      });
    });
    await new Promise<void>((resolve) => f.#server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.#server.address() as AddressInfo).port}`;
    return f;
  }

  /** A routing-config leaf that calls this fake. */
  leaf(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { provider: 'openai', api_key: 'sk-test', custom_host: `${this.url}/v1`, ...extra };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** POSTs a chat completion through a gateway with an x-portkey-config header; the body as JSON (when it parses) and as text. */
export async function portkeyChat(
  gateway: string,
  config: unknown,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${gateway}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify(config), ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
