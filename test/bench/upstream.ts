// Child entry: the fake OpenAI upstream the benchmark drives every contender against.
// Usage: node upstream.js [--port 0] [--chunks 10]   → prints `READY <port> <baseURL> <anthropicBaseURL>` on stdout.
// Beside it, in the same process (so the CPU accounting is one upstream's), a fake of Anthropic's
// Messages API: JSON and the documented event stream, `chunks` text deltas.
import { parseArgs } from 'node:util';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOpenAI } from '../src/fakes/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    chunks: { type: 'string', default: '10' },
  },
});

const fake = await FakeOpenAI.start({
  port: Number(values.port),
  record: false,
  chunkCount: Number(values.chunks),
});
const chunks = Number(values.chunks);
const sse = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const usage = { input_tokens: 12, output_tokens: chunks };
const anthropic = http.createServer((req, res) => {
  // An OTLP/HTTP collector too, for the traced contender: every batch drained and accepted, not
  // decoded (a collector runs elsewhere in production; here it shares the cores with the gateway).
  if (req.method === 'POST' && req.url === '/v1/traces') {
    // The answer in the request's encoding: an empty ExportTraceServiceResponse (no bytes in protobuf).
    const json = !String(req.headers['content-type']).includes('protobuf');
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (b: Buffer) => parts.push(b));
  req.on('end', () => {
    let body: { model?: string; stream?: boolean; max_tokens?: number } = {};
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
    } catch {
      // answered below
    }
    if (req.method !== 'POST' || req.url !== '/v1/messages' || typeof body.max_tokens !== 'number') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'POST /v1/messages with max_tokens' } }));
      return;
    }
    const message = { id: 'msg_bench', type: 'message', role: 'assistant', model: body.model ?? 'claude', stop_sequence: null };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = Array.from({ length: chunks }, (_, i) => `word${i} `).join('');
      res.end(JSON.stringify({ ...message, content: [{ type: 'text', text }], stop_reason: 'end_turn', usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let out = sse('message_start', { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } });
    out += sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    for (let i = 0; i < chunks; i++) out += sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `word${i} ` } });
    out += sse('content_block_stop', { index: 0 });
    out += sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: chunks } });
    res.end(out + sse('message_stop', {}));
  });
});
await new Promise<void>((resolve) => anthropic.listen(0, '127.0.0.1', resolve));
const anthropicPort = (anthropic.address() as AddressInfo).port;
process.stdout.write(`READY ${fake.port} ${fake.baseURL} http://127.0.0.1:${anthropicPort}/v1\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  anthropic.close();
  void Promise.resolve(fake.close()).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
