import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: unknown;
}

/** A tiny OpenAI-shaped upstream on loopback: answers with `status` (settable) and counts calls. */
export class TestUpstream {
  calls = 0;
  status = 200;
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<TestUpstream> {
    const server = http.createServer();
    const up = new TestUpstream(server);
    server.on('request', (req, res) => {
      req.resume();
      req.on('end', () => {
        up.calls++;
        const status = up.status;
        const body =
          status < 400
            ? {
                id: 'chatcmpl-1',
                object: 'chat.completion',
                created: 1,
                model: 'gpt-test',
                choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
              }
            : { error: { message: `upstream says ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error' } };
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return up;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
