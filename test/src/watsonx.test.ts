// watsonx end to end: the default gateway (the bundled plugins, @waygate/provider-watsonx among them,
// named here only to point its IAM exchange at loopback) driven by the `openai` SDK in Portkey's
// header dialect: the SDK's key is an IBM Cloud API key, exchanged once at a fake IAM; chat goes to a
// fake watsonx.ai's native text/chat (JSON and chat_stream) in the project the headers name.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';
import { readChatStream } from './helpers/portkey-e2e.js';

const API_KEY = 'ibm-cloud-e2e-api-key-00112233';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlMmUifQ.c2ln';
const PROJECT = '0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

describe('watsonx end to end: OpenAI SDK → gateway (Portkey headers) → fake IAM and watsonx.ai', function () {
  let iam: http.Server;
  let server: http.Server;
  let host = '';
  let gw: Gateway;
  const exchanges: string[] = [];
  const seen: Array<{ line: string; body: any }> = [];

  const listen = async (s: http.Server) => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  before(async () => {
    iam = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        exchanges.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 }));
      });
    });
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ line: `${req.method} ${req.url} ${req.headers.authorization}`, body: JSON.parse(body) });
        const base = { id: 'chat-1', model_id: 'ibm/granite-3-8b-instruct', created: 1733350000 };
        if (req.url?.startsWith('/ml/v1/text/chat_stream')) {
          const ev = (i: number, choice: object, usage?: object) =>
            `id: ${i}\nevent: message\ndata: ${JSON.stringify({ ...base, choices: [choice], ...(usage ? { usage } : {}) })}\n\n`;
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            ev(1, { index: 0, finish_reason: null, delta: { role: 'assistant', content: '' } }) +
              ev(2, { index: 0, finish_reason: null, delta: { content: 'Hello from' } }) +
              ev(3, { index: 0, finish_reason: 'stop', delta: { content: ' watsonx' } }, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 }),
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ...base,
            choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from watsonx' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
          }),
        );
      });
    });
    const iamUrl = `${await listen(iam)}/identity/token`;
    host = await listen(server);
    gw = await startGateway({ config: { plugins: [{ module: '@waygate/provider-watsonx', options: { iamUrl } }] }, port: 0, logger: silent });
  });
  after(async () => {
    await gw?.close();
    for (const s of [server, iam]) {
      s?.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });
  beforeEach(() => (seen.length = 0));

  const client = () =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: API_KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-portkey-provider': 'watsonx', 'x-portkey-custom-host': host, 'x-portkey-watsonx-project-id': PROJECT },
    });

  it('exchanges the API key once and answers a chat completion from text/chat', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'ibm/granite-3-8b-instruct', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 })
      .withResponse();
    expect(response.headers.get('x-portkey-provider')).to.equal('watsonx');
    expect(data.choices[0]!.message.content).to.equal('Hello from watsonx');
    expect(data.usage).to.include({ prompt_tokens: 4, completion_tokens: 3 });
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /ml/v1/text/chat?version=2024-05-31 Bearer ${TOKEN}`]);
    expect(seen[0]!.body).to.deep.include({ model_id: 'ibm/granite-3-8b-instruct', project_id: PROJECT, max_tokens: 16 });
    expect(exchanges).to.deep.equal([`grant_type=${encodeURIComponent('urn:ibm:params:oauth:grant-type:apikey')}&apikey=${API_KEY}`]);
  });

  it('streams through the SDK from chat_stream, with the cached token', async () => {
    const stream = await client().chat.completions.create({
      model: 'ibm/granite-3-8b-instruct',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const { text, finish } = await readChatStream(stream);
    expect(text).to.equal('Hello from watsonx');
    expect(finish).to.equal('stop');
    expect(seen.map((s) => s.line)).to.deep.equal([`POST /ml/v1/text/chat_stream?version=2024-05-31 Bearer ${TOKEN}`]);
    expect(exchanges).to.have.length(1);
  });
});
