// Replicate end to end: the default gateway (the bundled plugins, @waygate/provider-replicate among
// them) driven by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: replicate`), in
// front of a loopback fake that answers Replicate's prediction API.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

const KEY = 'r8_e2e-test-key-00112233';

describe('Replicate end to end: OpenAI SDK → gateway (Portkey headers) → fake Replicate', function () {
  let server: http.Server;
  let base = '';
  let gw: Gateway;
  const seen: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
        const prediction = {
          id: 'p1',
          status: 'succeeded',
          output: ['Hello', ' from', ' Replicate'],
          metrics: { input_token_count: 3, output_token_count: 3 },
          urls: { get: `${base}/predictions/p1`, cancel: `${base}/predictions/p1/cancel`, stream: `${base}/files/p1` },
        };
        if (req.url === '/v1/files/p1') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end('event: output\ndata: Hello\n\nevent: output\ndata:  from Replicate\n\nevent: done\ndata: {}\n\n');
          return;
        }
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(req.method === 'POST' && req.url?.endsWith('/predictions') ? { ...prediction, status: 'starting' } : prediction));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = () =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-portkey-provider': 'replicate', 'x-portkey-custom-host': base },
    });

  it('the bundled replicate slug runs a prediction and answers a chat completion', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'meta/meta-llama-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('replicate');
    expect(data.choices[0]!.message.content).to.equal('Hello from Replicate');
    expect(data.usage).to.include({ prompt_tokens: 3, completion_tokens: 3 });
    expect(seen[0]).to.equal(`POST /v1/models/meta/meta-llama-3-8b-instruct/predictions Bearer ${KEY}`);
    expect(seen.slice(1).every((s) => s.startsWith('GET /v1/predictions/p1 '))).to.equal(true);
  });

  it('streams through the SDK', async () => {
    const stream = await client().chat.completions.create({
      model: 'meta/meta-llama-3-8b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from Replicate');
    expect(finish).to.equal('stop');
    expect(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).to.deep.equal([
      'POST /v1/models/meta/meta-llama-3-8b-instruct/predictions',
      'GET /v1/files/p1',
    ]);
  });

  it('streams with stream_options.include_usage: the prediction is read after done and its usage is the last chunk', async () => {
    const stream = await client().chat.completions.create({
      model: 'meta/meta-llama-3-8b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await readChatStream(stream);
    expect(text).to.equal('Hello from Replicate');
    expect(usage).to.deep.equal({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
    expect(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).to.deep.equal([
      'POST /v1/models/meta/meta-llama-3-8b-instruct/predictions',
      'GET /v1/files/p1',
      'GET /v1/predictions/p1',
    ]);
    expect(seen[2]).to.equal(`GET /v1/predictions/p1 Bearer ${KEY}`);
  });
});
