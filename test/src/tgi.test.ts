// TGI end to end: the default gateway (the bundled plugins, @waygate/provider-tgi among them) driven
// by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: tgi`, the server's address as
// the custom host), in front of a loopback fake that speaks TGI's /generate and /generate_stream.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, portkeyClient } from './helpers/portkey-e2e.js';

const KEY = 'hf_e2e-tgi-key-00112233';

describe('TGI end to end: OpenAI SDK → gateway (Portkey headers) → fake TGI', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: Array<{ url: string; auth?: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text);
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
        if (req.url === '/generate_stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data:{"index":1,"token":{"id":1,"text":"Hi","logprob":-0.1,"special":false},"generated_text":null,"details":null}\n\n');
          res.write('data:{"index":2,"token":{"id":2,"text":" there","logprob":-0.1,"special":false},"generated_text":null,"details":null}\n\n');
          res.end(
            'data:{"index":3,"token":{"id":3,"text":"</s>","logprob":-0.1,"special":true},"generated_text":"Hi there","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null,"input_length":4}}\n\n',
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            generated_text: 'Hello from TGI',
            details: { finish_reason: 'length', generated_tokens: 3, seed: null, prefill: [], tokens: [] },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () => portkeyClient(gw, KEY, 'tgi', base);

  it('the bundled tgi slug answers a chat completion from /generate', async () => {
    const data = await client().chat.completions.create({ model: 'tgi', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(data.choices[0]!.message.content).to.equal('Hello from TGI');
    expect(data.choices[0]!.finish_reason).to.equal('length');
    expect(data.usage).to.include({ completion_tokens: 3 });
    expect(seen).to.deep.equal([{ url: '/generate', auth: `Bearer ${KEY}`, body: { inputs: 'hi', parameters: { max_new_tokens: 3, details: true } } }]);
  });

  it('streams a completion through the SDK', async () => {
    const stream = await client().completions.create({ model: 'tgi', prompt: 'Say hi', stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).to.equal('Hi there');
    expect(finish).to.equal('stop');
    expect(seen[0]!.url).to.equal('/generate_stream');
  });
});
