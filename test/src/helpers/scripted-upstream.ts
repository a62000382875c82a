import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback upstream whose answers a test writes: a subclass's `answer()` gets each request with its
 * whole body as text. `url` ends in `/v1`, as an OpenAI-compatible base URL does.
 */
export abstract class ScriptedUpstream {
  readonly #server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => this.answer(req, raw, res));
  });
  url = '';

  protected abstract answer(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
    return this;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
