// Bytez end to end: the default gateway (the bundled plugins, @waygate/provider-bytez among them)
// driven by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: bytez`), in front of a
// loopback fake that answers Bytez's models/v2 API: `{error, output}` JSON, and streams as plain text.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, portkeyClient, readChatStream } from './helpers/portkey-e2e.js';

const KEY = 'bytez-e2e-test-key-00112233';

describe('Bytez end to end: OpenAI SDK → gateway (Portkey headers) → fake Bytez', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ line: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const json = JSON.parse(body);
        seen.push({ line: `${req.method} ${req.url} ${req.headers.authorization}`, body: json });
        if (json.stream) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          res.write('Hello', () => res.end(' from Bytez'));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: null, output: { role: 'assistant', content: [{ type: 'text', text: 'Hello from Bytez' }] } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/v2`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () => portkeyClient(gw, KEY, 'bytez', base);

  it('the bundled bytez slug answers a chat completion', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'Qwen/Qwen3-4B', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('bytez');
    expect(data.choices[0]!.message.content).to.equal('Hello from Bytez');
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /models/v2/Qwen/Qwen3-4B Key ${KEY}`]);
    expect(seen[0]!.body).to.deep.equal({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stream: false,
      params: { max_new_tokens: 16 },
    });
  });

  it('streams through the SDK', async () => {
    const stream = await client().chat.completions.create({ model: 'Qwen/Qwen3-4B', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from Bytez');
    expect(finish).to.equal('stop');
    expect(seen[0]!.body.stream).to.equal(true);
  });
});
