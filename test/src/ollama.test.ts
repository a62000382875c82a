// Ollama end to end: the default gateway (the bundled plugins, @waygate/provider-ollama among them)
// driven by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: ollama` and the server
// as custom host), and through the config file's `providers.ollama.base_url` with the `/v1` of an
// OpenAI-compatible setup, in front of a loopback fake that answers Ollama's native API (/api/chat,
// its NDJSON stream, /api/embed, /api/tags).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

describe('Ollama end to end: OpenAI SDK → gateway (Portkey headers) → fake Ollama', function () {
  let server: http.Server;
  let fake = '';
  let gw: Gateway;
  const seen: Array<{ line: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c));
      req.on('end', () => {
        const body = raw ? JSON.parse(raw) : undefined;
        seen.push({ line: `${req.method} ${req.url}`, body });
        const meta = { model: 'llama3.2', created_at: '2024-12-04T21:00:00Z' };
        const counts = { prompt_eval_count: 7, eval_count: 3 };
        if (req.url === '/api/tags') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest', modified_at: '2024-12-01T00:00:00Z', size: 1, digest: 'x', details: {} }],
            }),
          );
        } else if (req.url === '/api/embed') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ model: 'all-minilm', embeddings: [[0.5, -0.25, 2]], prompt_eval_count: 1 }));
        } else if (body?.stream) {
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          for (const piece of ['Hello', ' from', ' Ollama'])
            res.write(`${JSON.stringify({ ...meta, message: { role: 'assistant', content: piece }, done: false })}\n`);
          res.end(`${JSON.stringify({ ...meta, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', ...counts })}\n`);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ...meta, message: { role: 'assistant', content: 'Hello from Ollama' }, done: true, done_reason: 'stop', ...counts }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({ config: { providers: { ollama: { base_url: `${fake}/v1` } } }, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = (headers: Record<string, string> = { 'x-portkey-provider': 'ollama', 'x-portkey-custom-host': fake }) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: headers });

  it('the bundled ollama slug answers a chat completion from /api/chat', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], temperature: 0 })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('ollama');
    expect(data.choices[0]!.message.content).to.equal('Hello from Ollama');
    expect(data.usage).to.include({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(seen.map((s) => s.line)).to.deep.equal(['POST /api/chat']);
    expect(seen[0]!.body).to.deep.equal({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], options: { temperature: 0 }, stream: false });
  });

  it('streams NDJSON through the SDK as chunks, usage included', async () => {
    const stream = await client().chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await readChatStream(stream);
    expect(text).to.equal('Hello from Ollama');
    expect(finish).to.equal('stop');
    expect(usage).to.include({ prompt_tokens: 7, completion_tokens: 3 });
  });

  it('embeds and lists models through the SDK', async () => {
    const emb = await client().embeddings.create({ model: 'all-minilm', input: 'hello' });
    expect(emb.data[0]!.embedding).to.deep.equal([0.5, -0.25, 2]);
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).to.deep.equal(['llama3.2:latest']);
    expect(seen.map((s) => s.line)).to.deep.equal(['POST /api/embed', 'GET /api/tags']);
  });

  it("the config file's base_url with a trailing /v1 (an OpenAI-compatible setup) still reaches /api/chat", async () => {
    const res = await client({ 'x-portkey-provider': 'ollama' }).chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0]!.message.content).to.equal('Hello from Ollama');
    expect(seen.map((s) => s.line)).to.deep.equal(['POST /api/chat']);
  });
});
