// Predibase end to end: the default gateway (the bundled plugins, @waygate/provider-predibase among
// them, which owns the slug now) driven by the `openai` SDK in Portkey's dialect (the tenant as the
// body's `user`, the model as `<deployment>:<adapter>`), in front of a loopback fake of Predibase's
// deployment API (LoRAX's /generate and /generate_stream under /{tenant}/deployments/v2/llms/{name}).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, portkeyClient, readChatStream } from './helpers/portkey-e2e.js';

const KEY = 'pb_e2e-key-00112233445566';
const ROUTE = /^\/([^/]+)\/deployments\/v2\/llms\/([^/]+)\/(generate|generate_stream)$/;

describe('Predibase end to end: OpenAI SDK → gateway (Portkey headers) → fake Predibase', function () {
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
        const m = ROUTE.exec(req.url ?? '');
        if (!m || req.headers.authorization !== `Bearer ${KEY}`) {
          res.writeHead(m ? 401 : 404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: m ? 'unauthorized' : 'deployment not found', error_type: 'request' }));
          return;
        }
        const answer = `${m[2]} with ${body.parameters?.adapter_id ?? 'no adapter'}`;
        if (m[3] === 'generate_stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const words = answer.split(' ');
          words.forEach((w, i) => {
            const last = i === words.length - 1;
            const ev = {
              token: { id: i, text: i ? ` ${w}` : w, logprob: -0.1, special: false },
              generated_text: last ? answer : null,
              details: last ? { finish_reason: 'eos_token', prompt_tokens: 5, generated_tokens: words.length, seed: null } : null,
            };
            res.write(`data:${JSON.stringify(ev)}\n\n`);
          });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            generated_text: answer,
            details: { finish_reason: 'eos_token', prompt_tokens: 5, generated_tokens: 4, prefill: [], tokens: [] },
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

  const client = () => portkeyClient(gw, KEY, 'predibase', base);

  it('the bundled predibase slug answers a chat completion from the deployment, with the adapter', async () => {
    const data = await client().chat.completions.create({
      model: 'llama-3-8b:sentiment/1',
      user: 'tenant-7',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(data.choices[0]!.message.content).to.equal('llama-3-8b with sentiment/1');
    expect(data.usage).to.deep.equal({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    expect(seen[0]!.url).to.equal('/tenant-7/deployments/v2/llms/llama-3-8b/generate');
    expect(seen[0]!.body.parameters).to.include({ adapter_id: 'sentiment/1', adapter_source: 'pbase' });
  });

  it('streams through the SDK, usage included when asked', async () => {
    const stream = await client().chat.completions.create({
      model: 'mistral-7b',
      user: 'tenant-7',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await readChatStream(stream);
    expect(text).to.equal('mistral-7b with no adapter');
    expect(usage).to.deep.equal({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    expect(seen[0]!.url).to.equal('/tenant-7/deployments/v2/llms/mistral-7b/generate_stream');
  });

  it('answers 400 naming the tenant option when no tenant is given', async () => {
    const err = await client()
      .chat.completions.create({ model: 'mistral-7b', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e as { status: number; message: string });
    expect((err as { status: number }).status).to.equal(400);
    expect((err as { message: string }).message).to.include('predibase_tenant_id');
    expect(seen).to.have.length(0);
  });
});
