// GET /v1/models to Anthropic's Models API: a loopback fake that lists models as Anthropic documents
// it, read through the gateway by the `openai` SDK (OpenAI's shape) and `@anthropic-ai/sdk` (Anthropic's).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { jsonFixture } from './fixtures.js';

const KEY = 'sk-ant-models-0123456789';

describe('anthropic models list', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let fake: http.Server;
  let fakeURL = '';
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];

  before(async () => {
    fake = http.createServer((req, res) => {
      seen.push({ url: req.url!, headers: req.headers });
      if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(jsonFixture('models-list')));
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'nope' } }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeURL = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/anthropic-messages', new URL('../src/index.js', import.meta.url).href] },
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    fake?.closeAllConnections();
    await new Promise<void>((r) => fake.close(() => r()));
  });
  beforeEach(() => (seen.length = 0));

  const headers = () => ({ 'x-waygate-provider': 'anthropic', 'x-waygate-custom-host': fakeURL });

  it("maps Anthropic's list to OpenAI's shape for an OpenAI caller", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, defaultHeaders: headers(), maxRetries: 0 });
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).to.deep.equal(['claude-sonnet-4-5-20250929', 'claude-3-5-haiku-20241022']);
    expect(page.data[0]).to.deep.include({ object: 'model', owned_by: 'anthropic', created: Date.parse('2025-09-29T00:00:00Z') / 1000 });
    expect(seen).to.have.length(1);
    expect(seen[0]!.url).to.equal('/v1/models?limit=1000');
    expect(seen[0]!.headers['x-api-key']).to.equal(KEY);
    expect(seen[0]!.headers['anthropic-version']).to.equal('2023-06-01');
  });

  it("keeps Anthropic's shape for @anthropic-ai/sdk models.list()", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: KEY, defaultHeaders: headers(), maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      ids.push(m.id);
      expect(m.type).to.equal('model');
      expect(m.display_name).to.be.a('string');
    }
    expect(ids).to.deep.equal(['claude-sonnet-4-5-20250929', 'claude-3-5-haiku-20241022']);
  });
});
