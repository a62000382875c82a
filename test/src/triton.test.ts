// NVIDIA Triton end to end: the default gateway (the bundled plugins, @waygate/provider-triton among
// them) driven by the `openai` SDK, with the server's root as `x-portkey-custom-host`, or a Portkey
// config whose custom host is the model's URL (Portkey appends /generate to it), in front of a loopback
// fake of Triton's generate extension (/v2/models/{model}/generate and its SSE /generate_stream).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

describe('Triton end to end: OpenAI SDK → gateway (Portkey headers) → fake Triton', function () {
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
        const answer = (text: string) => ({ model_name: 'ensemble', model_version: '1', text_output: text });
        if (req.url?.endsWith('/generate_stream')) {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
          res.end(['Hello', ' from', ' Triton'].map((t) => `data: ${JSON.stringify(answer(t))}\n\n`).join(''));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer('Hello from Triton')));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({ config: {}, port: 0, logger: silent });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = (headers: Record<string, string> = { 'x-portkey-provider': 'triton', 'x-portkey-custom-host': fake }) =>
    new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: headers });

  it('the bundled triton slug answers a chat completion from /v2/models/{model}/generate', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'ensemble', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('triton');
    expect(data.choices[0]!.message.content).to.equal('Hello from Triton');
    expect(data.choices[0]!.finish_reason).to.equal('stop');
    expect(seen).to.deep.equal([
      { line: 'POST /v2/models/ensemble/generate', body: { text_input: 'User: hi\nAssistant:', parameters: { max_tokens: 16, stream: false } } },
    ]);
  });

  it('streams /generate_stream through the SDK', async () => {
    const stream = await client().chat.completions.create({ model: 'ensemble', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from Triton');
    expect(finish).to.equal('stop');
    expect(seen.map((s) => s.line)).to.deep.equal(['POST /v2/models/ensemble/generate_stream']);
  });

  it("a Portkey config whose custom host is the model's URL, and completions", async () => {
    const cfg = JSON.stringify({ provider: 'triton', custom_host: `${fake}/v2/models/ensemble` });
    const res = await client({ 'x-portkey-config': cfg }).completions.create({ model: 'ensemble', prompt: 'Once' });
    expect(res.choices[0]!.text).to.equal('Hello from Triton');
    expect(seen).to.deep.equal([{ line: 'POST /v2/models/ensemble/generate', body: { text_input: 'Once', parameters: { stream: false } } }]);
  });
});
