import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EchoInputError, chatCompletion, chatStream, embeddings, modelList } from './answers.js';

const MAX_BODY = 4 * 1024 * 1024;

/**
 * The echo upstream: an HTTP server on 127.0.0.1 (a random port, never another interface) that
 * speaks OpenAI's wire format, so the echo adapter goes through the kernel's ordinary upstream path
 * (timeouts, retries, streams, usage) without leaving the machine.
 */
export async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
  const path = (req.url ?? '').split('?')[0];
  try {
    if (req.method === 'GET' && path === '/v1/models') return send(res, 200, modelList());
    if (req.method !== 'POST') return send(res, 404, { error: { message: `echo: no route ${req.method} ${path}`, type: 'invalid_request_error' } });
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new EchoInputError('the body is not JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new EchoInputError('the body must be a JSON object');
    const json = body as Record<string, unknown>;
    if (path === '/v1/chat/completions') {
      if (json.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end(chatStream(json));
      }
      return send(res, 200, chatCompletion(json));
    }
    if (path === '/v1/embeddings') return send(res, 200, embeddings(json));
    return send(res, 404, { error: { message: `echo: no route POST ${path}`, type: 'invalid_request_error' } });
  } catch (err) {
    if (err instanceof EchoInputError) return send(res, 400, { error: { message: `echo: ${err.message}`, type: 'invalid_request_error' } });
    return send(res, 500, { error: { message: 'echo: internal error', type: 'server_error' } });
  }
}
