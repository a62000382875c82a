// Child entry: the "floor" contender, a bare Node proxy. It forwards the request body to the
// upstream's same path over a keep-alive undici Pool and pipes status, content-type and body
// (SSE included, chunk by chunk) back. Whatever Waygate costs beyond this is gateway overhead.
// Usage: node passthrough.js --upstream http://127.0.0.1:PORT [--port 0]  → prints `READY <port>`.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
  },
});
if (!values.upstream) throw new Error('passthrough: --upstream <origin> is required');

const pool = new Pool(values.upstream, { pipelining: 1, keepAliveTimeout: 30_000 });

function fail(res: http.ServerResponse, err: Error): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(502, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `passthrough: ${err.message}` } }));
}

// Plain callbacks and .pipe() on purpose: stream/promises' pipeline() and async iteration cost
// an AbortController + DOMException per request, which would make this floor needlessly slow.
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('error', (err) => fail(res, err));
  req.on('end', () => {
    const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'application/json' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    pool.request(
      {
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers,
        body: chunks.length === 1 ? chunks[0]! : chunks.length > 0 ? Buffer.concat(chunks) : null,
      },
      (err, upstream) => {
        if (err) {
          fail(res, err);
          return;
        }
        const out: http.OutgoingHttpHeaders = {};
        for (const name of ['content-type', 'content-length'] as const) {
          const value = upstream.headers[name];
          if (typeof value === 'string') out[name] = value;
        }
        res.writeHead(upstream.statusCode, out);
        upstream.body.on('error', (bodyErr) => res.destroy(bodyErr));
        upstream.body.pipe(res);
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : values.port}\n`);
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
