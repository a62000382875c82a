// PaLM end to end: the default gateway (the bundled plugins, @waygate/provider-palm among them) driven
// by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: palm`), in front of a loopback
// fake that answers the PaLM API's generateMessage and embedText.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, portkeyClient, readChatStream } from './helpers/portkey-e2e.js';

const KEY = 'AIza-palm-e2e-test-key-00112233';

describe('PaLM end to end: OpenAI SDK → gateway (Portkey headers) → fake PaLM API', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ line: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ line: `${req.method} ${req.url} ${req.headers['x-goog-api-key']}`, body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url?.endsWith(':embedText')) return void res.end(JSON.stringify({ embedding: { value: [0.5, -0.25, 0.125] } }));
        res.end(JSON.stringify({ candidates: [{ author: '1', content: 'Hello from PaLM' }], messages: [{ author: 'user', content: 'hi' }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1beta3`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () => portkeyClient(gw, KEY, 'palm', base);

  it('the bundled palm slug answers a chat completion through generateMessage', async () => {
    const { data, response } = await client()
      .chat.completions.create({
        model: 'chat-bison-001',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
      })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('palm');
    expect(data.choices[0]!.message.content).to.equal('Hello from PaLM');
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /v1beta3/models/chat-bison-001:generateMessage ${KEY}`]);
    expect(seen[0]!.body.prompt).to.deep.equal({ context: 'Be brief.', messages: [{ author: 'user', content: 'hi' }] });
  });

  it('streams through the SDK (the one answer as chunks)', async () => {
    const stream = await client().chat.completions.create({ model: 'chat-bison-001', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from PaLM');
    expect(finish).to.equal('stop');
  });

  it('embeds through the SDK (base64 by default, decoded by the SDK)', async () => {
    const out = await client().embeddings.create({ model: 'embedding-gecko-001', input: 'hello' });
    expect(out.data[0]!.embedding).to.deep.equal([0.5, -0.25, 0.125]);
    expect(seen[0]!.line).to.equal(`POST /v1beta3/models/embedding-gecko-001:embedText ${KEY}`);
  });
});
