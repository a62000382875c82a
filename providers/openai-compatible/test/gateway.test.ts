// New slugs through a whole gateway (the bundled plugins, so `@waygate/catalogue` too): a Portkey
// `x-portkey-provider` value, a `provider/model` id, a templated base URL missing its option, and a
// slug that serves nothing here. The upstream is a loopback fake.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { silent } from '@waygate/core/testing';

interface Hit {
  url: string;
  authorization?: string;
  model?: unknown;
}

describe('new slugs through the gateway', () => {
  let server: http.Server;
  let fake = '';
  const hits: Hit[] = [];
  let gw: Gateway;

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const json = body ? (JSON.parse(body) as { model?: unknown }) : {};
        hits.push({ url: req.url ?? '', authorization: req.headers.authorization, model: json.model });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 1,
            model: json.model ?? 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await startGateway({
      config: {
        providers: {
          moonshot: { api_key: 'sk-moon', base_url: `${fake}/moonshot/v1` },
          zhipu: { api_key: 'sk-zhipu', base_url: `${fake}/zhipu/v4` },
        },
      },
      port: 0,
      host: '127.0.0.1',
      logger: silent,
    });
  });
  after(async () => {
    await gw?.close(0);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const chat = async (headers: Record<string, string>, model = 'kimi-k2') => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, json: (await res.json()) as { error?: { code?: string; message?: string } } };
  };

  it('x-portkey-provider: moonshot reaches Moonshot with its key', async () => {
    hits.length = 0;
    const res = await chat({ 'x-portkey-provider': 'moonshot' });
    expect(res.status).to.equal(200);
    expect(hits.filter((h) => h.url === '/moonshot/v1/chat/completions').map((h) => h.authorization)).to.deep.equal(['Bearer sk-moon']);
  });

  it('a provider/model id (zhipu/glm-4) routes to the slug with the bare model', async () => {
    hits.length = 0;
    const res = await chat({}, 'zhipu/glm-4');
    expect(res.status).to.equal(200);
    expect(hits.filter((h) => h.url === '/zhipu/v4/chat/completions').map((h) => h.model)).to.deep.equal(['glm-4']);
  });

  it('cortex without its account: a 400 naming snowflake_account, nothing sent', async () => {
    hits.length = 0;
    const res = await chat({ 'x-portkey-provider': 'cortex', authorization: 'Bearer pat-1' });
    expect(res.status).to.equal(400);
    expect(res.json.error?.code).to.equal('invalid_config');
    expect(res.json.error?.message).to.include('snowflake_account');
    expect(hits).to.have.length(0);
  });

  it('milvus is accepted and answers 400 unsupported_endpoint saying it is a vector database', async () => {
    hits.length = 0;
    const res = await chat({ 'x-portkey-provider': 'milvus', authorization: 'Bearer k', 'x-portkey-custom-host': 'https://milvus.example' });
    expect(res.status).to.equal(400);
    expect(res.json.error?.code).to.equal('unsupported_endpoint');
    expect(res.json.error?.message).to.include('vector database');
    expect(hits).to.have.length(0);
  });
});
