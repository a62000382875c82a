// GET /v1/models to the Gemini API's models.list: a loopback fake that lists models as Google
// documents it, read through the gateway by the `openai` SDK.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { jsonFixture } from './fixtures.js';

const KEY = 'AIza-models-0123456789';

describe('google models list', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let fake: http.Server;
  let fakeURL = '';
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  let answer: { status: number; body: unknown } = { status: 200, body: jsonFixture('models-list') };

  before(async () => {
    fake = http.createServer((req, res) => {
      seen.push({ url: req.url!, headers: req.headers });
      const found = req.method === 'GET' && req.url?.startsWith('/v1beta/models');
      res.writeHead(found ? answer.status : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ? answer.body : { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeURL = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1beta`;
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', new URL('../src/index.js', import.meta.url).href] },
      port: 0,
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    fake?.closeAllConnections();
    await new Promise<void>((r) => fake.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
    answer = { status: 200, body: jsonFixture('models-list') };
  });

  const client = () =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: KEY,
      defaultHeaders: { 'x-waygate-provider': 'google', 'x-waygate-custom-host': fakeURL },
      maxRetries: 0,
    });

  it("maps Gemini's list to OpenAI's shape, ids as a chat request names them", async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).to.deep.equal(['gemini-2.5-flash', 'gemini-2.5-pro', 'text-embedding-004']);
    expect(page.data[0]).to.deep.equal({ id: 'gemini-2.5-flash', object: 'model', created: 0, owned_by: 'google' });
    expect(seen).to.have.length(1);
    expect(seen[0]!.url).to.equal('/v1beta/models?pageSize=1000');
    expect(seen[0]!.headers['x-goog-api-key']).to.equal(KEY);
    expect(seen[0]!.headers.authorization).to.equal(undefined);
  });

  it("a bad key is Google's 400 INVALID_ARGUMENT mapped to OpenAI's error shape, the key not echoed", async () => {
    answer = { status: 400, body: { error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } } };
    const err = (await client()
      .models.list()
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).to.be.instanceOf(OpenAI.APIError);
    expect(err.status).to.be.within(400, 401);
    expect(err.message).to.match(/API key not valid/);
    expect(err.message).to.not.contain(KEY);
  });
});
