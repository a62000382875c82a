// Cloudflare Workers AI end to end: the default gateway (the bundled plugins, @waygate/provider-workers-ai
// among them) driven by the `openai` SDK in Portkey's header dialect (`x-portkey-provider: workers-ai`
// and a custom host, or a Portkey config naming `workers_ai_account_id`), in front of a loopback fake
// that answers Workers AI's native REST API (`/accounts/{id}/ai/run/{model}`, Cloudflare's envelope,
// `data: {"response"}` streams).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { closeGatewayAndFake, readChatStream } from './helpers/portkey-e2e.js';

const TOKEN = 'cf-e2e-token-0123456789';
const ACCOUNT = '00112233445566778899aabbccddeeff';
const MODEL = '@cf/meta/llama-3.1-8b-instruct';

describe('Workers AI end to end: OpenAI SDK → gateway (Portkey headers) → fake Workers AI', function () {
  let server: http.Server;
  let fake = '';
  let gw: Gateway;
  const seen: Array<{ line: string; body: any }> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw || '{}');
        seen.push({ line: `${req.method} ${req.url} ${req.headers.authorization}`, body });
        if (req.url?.includes('@cf/baai/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ result: { shape: [1, 3], data: [[0.25, -0.5, 1]] }, success: true, errors: [], messages: [] }));
          return;
        }
        const usage = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 };
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            `data: {"response":"Hello"}\n\ndata: {"response":" from"}\n\ndata: {"response":" Workers AI"}\n\ndata: {"response":"","usage":${JSON.stringify(usage)}}\n\ndata: [DONE]\n\n`,
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ result: { response: 'Hello from Workers AI', usage }, success: true, errors: [], messages: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: { providers: { 'workers-ai': { base_url: `${fake}/client/v4/accounts/{workers_ai_account_id}/ai/run` } } },
      port: 0,
      logger: silent,
    });
  });
  after(() => closeGatewayAndFake(gw, server));
  beforeEach(() => (seen.length = 0));

  const client = (headers: Record<string, string>) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TOKEN, maxRetries: 0, defaultHeaders: headers });
  const viaHost = () => client({ 'x-portkey-provider': 'workers-ai', 'x-portkey-custom-host': `${fake}/client/v4/accounts/${ACCOUNT}/ai/run` });

  it('the bundled workers-ai slug runs the model at /ai/run/{model} and answers a chat completion', async () => {
    const { data, response } = await viaHost()
      .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('workers-ai');
    expect(data.choices[0]!.message.content).to.equal('Hello from Workers AI');
    expect(data.usage).to.include({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /client/v4/accounts/${ACCOUNT}/ai/run/${MODEL} Bearer ${TOKEN}`]);
    expect(seen[0]!.body).to.deep.equal({ messages: [{ role: 'user', content: 'hi' }] });
  });

  it('streams through the SDK, usage included', async () => {
    const stream = await viaHost().chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, finish, usage } = await readChatStream(stream);
    expect(text).to.equal('Hello from Workers AI');
    expect(finish).to.equal('stop');
    expect(usage).to.include({ prompt_tokens: 5, completion_tokens: 3 });
    expect(seen[0]!.body.stream).to.equal(true);
  });

  it('embeds through the SDK (its default base64 decoded back to the floats)', async () => {
    const res = await viaHost().embeddings.create({ model: '@cf/baai/bge-base-en-v1.5', input: 'hello' });
    expect(res.data[0]!.embedding).to.deep.equal([0.25, -0.5, 1]);
    expect(seen[0]!.body).to.deep.equal({ text: ['hello'] });
  });

  it("a Portkey config's workers_ai_account_id fills the account into the config file's base_url", async () => {
    const cfg = JSON.stringify({ provider: 'workers-ai', api_key: TOKEN, workers_ai_account_id: ACCOUNT });
    const res = await client({ 'x-portkey-config': cfg }).chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.message.content).to.equal('Hello from Workers AI');
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /client/v4/accounts/${ACCOUNT}/ai/run/${MODEL} Bearer ${TOKEN}`]);
  });
});
