// GET /v1/models to Bedrock's ListFoundationModels: the control-plane host, the signature, and the
// summaries as OpenAI's list; then through the gateway to a loopback fake with the `openai` SDK.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startGateway, createLogger } from '@waygate/core';
import type { BuildInput, Gateway } from '@waygate/core';
import { models } from '../src/adapter.js';
import { DEFAULT_BASE_URL } from '../src/request.js';
import { signV4 } from '../src/sigv4.js';
import { jsonFixture } from './fixtures.js';

const KEYS = { aws_access_key_id: 'AKIDEXAMPLE', aws_secret_access_key: 'secret-for-models' };
const AT = Date.parse('2025-03-04T05:06:07Z');

function input(node: Record<string, unknown> = KEYS, baseURL = DEFAULT_BASE_URL, apiKey?: string): BuildInput {
  return {
    ctx: { id: 'req-models', startedAt: AT, headers: {} } as never,
    target: { provider: 'bedrock', node: { provider: 'bedrock', ...node }, path: 'config', baseURL, apiKey },
    body: undefined,
  };
}

describe('bedrock models list', () => {
  it("GETs the region's control plane /foundation-models, signed for service bedrock", () => {
    const req = models.build(input({ ...KEYS, aws_region: 'eu-west-1' }));
    assert.equal(req.method, 'GET');
    assert.equal(req.url, 'https://bedrock.eu-west-1.amazonaws.com/foundation-models');
    const again = signV4({
      method: 'GET',
      url: req.url,
      headers: { accept: 'application/json' },
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-for-models' },
      region: 'eu-west-1',
      service: 'bedrock',
      date: AT,
    });
    assert.equal(req.headers.authorization, again.headers.authorization);
    assert.match(req.headers.authorization!, /Credential=AKIDEXAMPLE\/20250304\/eu-west-1\/bedrock\/aws4_request/);
    assert.equal(models.build(input(KEYS, 'http://127.0.0.1:9/')).url, 'http://127.0.0.1:9/foundation-models', 'a custom host as given');
    const bearer = models.build(input({}, DEFAULT_BASE_URL, 'bedrock-api-key-1'));
    assert.equal(bearer.headers.authorization, 'Bearer bedrock-api-key-1');
  });

  it('maps the summaries to OpenAI’s list: modelId as id, the provider as owner', () => {
    const out = models.mapResponse!(jsonFixture('models-list'), input()) as { object: string; data: Array<Record<string, unknown>> };
    assert.equal(out.object, 'list');
    assert.deepEqual(
      out.data.map((m) => [m.id, m.owned_by]),
      [
        ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic'],
        ['amazon.titan-embed-text-v2:0', 'amazon'],
        ['meta.llama3-3-70b-instruct-v1:0', 'meta'],
      ],
    );
    assert.deepEqual(out.data[0], { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', object: 'model', created: 0, owned_by: 'anthropic' });
  });

  describe('through the gateway', function () {
    this.timeout(20_000);
    let gw: Gateway;
    let fake: http.Server;
    const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders }> = [];

    before(async () => {
      fake = http.createServer((req, res) => {
        seen.push({ method: req.method, url: req.url, headers: req.headers });
        if (req.method === 'GET' && req.url === '/foundation-models') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify(jsonFixture('models-list')));
        }
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ message: 'not found' }));
      });
      await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      gw = await startGateway({
        config: {
          defaultPlugins: false,
          plugins: ['@waygate/openai-api', new URL('../src/index.js', import.meta.url).href],
          routing: { provider: 'bedrock', custom_host: url, aws_region: 'us-east-1', ...KEYS },
        },
        port: 0,
        logger: createLogger({ level: 'silent' }),
      });
    });
    after(async () => {
      await gw?.close(0);
      fake?.closeAllConnections();
      await new Promise<void>((r) => fake.close(() => r()));
    });

    it('openai models.list() lists Bedrock’s foundation models; the secret never leaves but as a signature', async () => {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const page = await client.models.list();
      assert.deepEqual(
        page.data.map((m) => m.id),
        ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.titan-embed-text-v2:0', 'meta.llama3-3-70b-instruct-v1:0'],
      );
      assert.equal(seen.length, 1);
      assert.match(String(seen[0]!.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
      assert.ok(!JSON.stringify(seen[0]!.headers).includes('secret-for-models'));
    });
  });
});
