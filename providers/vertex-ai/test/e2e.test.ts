// End to end: a real gateway (default plugins plus this one) → a fake Vertex AI on loopback that also
// plays Google's OAuth token endpoint. Service-account auth through the kernel's prepare() step, one
// token exchange for many requests, and the Anthropic Messages pass-through when the gateway serves
// /v1/messages.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { CLAUDE_ANSWER, CLAUDE_STREAM, GEMINI_ANSWER, GEMINI_STREAM } from './fixtures.js';
import { serviceAccountJson, testKeys } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('vertex-ai end to end, through a gateway', function () {
  this.timeout(20_000);
  let gw: Gateway;
  let fake: http.Server;
  let origin = '';
  const seen: Seen[] = [];
  let exchanges = 0;
  let tokenReply: () => { status: number; body: unknown } = () => ({ status: 200, body: { access_token: `ya29.e2e-${exchanges}`, expires_in: 3599, token_type: 'Bearer' } });

  before(async () => {
    fake = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const send = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (req.url === '/token') {
          exchanges++;
          const r = tokenReply();
          return setTimeout(() => send(r.status, r.body), 50); // slow enough for concurrent requests to overlap
        }
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const auth = String(req.headers.authorization ?? '');
        if (!/^Bearer (ya29\.e2e-\d+|client-access-token)$/.test(auth)) {
          return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
        }
        const m = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^/:]+):(\w+)(\?alt=sse)?$/.exec(req.url!);
        if (!m) return send(404, { error: { code: 404, message: `no route ${req.url}`, status: 'NOT_FOUND' } });
        const method = m[5];
        const sse = (events: string[]) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(events.join(''));
        };
        if (method === 'generateContent') return send(200, GEMINI_ANSWER);
        if (method === 'streamGenerateContent') return sse(GEMINI_STREAM);
        if (method === 'rawPredict') return send(200, CLAUDE_ANSWER);
        if (method === 'streamRawPredict') return sse(CLAUDE_STREAM);
        return send(404, { error: { code: 404, message: `no method ${method}`, status: 'NOT_FOUND' } });
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    // The package by name: whether or not it is in the embedded default list yet, this loads it once.
    gw = await startGateway({
      config: { plugins: ['@waygate/provider-vertex-ai'] },
      port: 0,
      logger: createLogger({ level: 'silent' }),
      env: {},
    });
  });

  after(async () => {
    await gw?.close(0);
    fake?.closeAllConnections();
    await new Promise<void>((resolve) => (fake ? fake.close(() => resolve()) : resolve()));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  const sa = (extra: Record<string, unknown> = {}) => serviceAccountJson(`${origin}/token`, extra);
  const post = (route: string, body: object, headers: Record<string, string>) =>
    fetch(`${gw.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const chat = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Say hello' }] };

  it('a service account in Portkey\'s header: many requests, sequential and concurrent, share one token exchange', async () => {
    exchanges = 0;
    const account = JSON.stringify(sa({ private_key_id: 'kid-e2e-1' }));
    const headers = {
      'x-portkey-provider': 'vertex-ai',
      'x-portkey-custom-host': `${origin}/v1`,
      'x-portkey-vertex-region': 'us-central1',
      'x-portkey-vertex-service-account-json': account,
    };
    const concurrent = await Promise.all(Array.from({ length: 8 }, () => post('/v1/chat/completions', chat, headers)));
    for (const res of concurrent) assert.equal(res.status, 200, await res.clone().text());
    for (let i = 0; i < 4; i++) {
      const res = await post('/v1/chat/completions', { ...chat, model: 'claude-sonnet-4-5@20250929' }, headers);
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.equal(json.choices[0].message.content, 'Hello!');
    }
    assert.equal(exchanges, 1, 'one exchange for 12 requests');
    assert.equal(seen.length, 12);
    for (const s of seen) {
      assert.equal(s.headers.authorization, 'Bearer ya29.e2e-1');
      assert.match(s.url, /^\/v1\/projects\/sa-project\/locations\/us-central1\/publishers\/(google|anthropic)\/models\//);
    }
  });

  it('a service account object in the routing config, streamed', async () => {
    exchanges = 0;
    const config = { provider: 'vertex-ai', custom_host: `${origin}/v1`, vertex_project_id: 'cfg-proj', vertex_region: 'europe-west1', vertex_service_account_json: sa({ private_key_id: 'kid-e2e-2' }) };
    const res = await post('/v1/chat/completions', { ...chat, stream: true }, { 'x-waygate-config': JSON.stringify(config) });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /data: \[DONE\]/);
    assert.equal(exchanges, 1);
    assert.equal(seen[0]!.url, '/v1/projects/cfg-proj/locations/europe-west1/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    assert.equal(seen[0]!.headers.authorization, 'Bearer ya29.e2e-1');
  });

  it('a refused service account is a 401 that names the account and never shows the key', async () => {
    exchanges = 0;
    tokenReply = () => ({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } });
    try {
      const res = await post('/v1/chat/completions', chat, {
        'x-waygate-provider': 'vertex-ai',
        'x-waygate-custom-host': `${origin}/v1`,
        'x-waygate-vertex-service-account-json': JSON.stringify(sa({ private_key_id: 'kid-e2e-3' })),
      });
      const text = await res.text();
      assert.equal(res.status, 401, text);
      assert.match(JSON.parse(text).error.message, /token endpoint refused the service account gateway@sa-project\.iam\.gserviceaccount\.com.*invalid_grant/);
      const keyBody = testKeys().privateKeyPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      assert.ok(!text.includes('PRIVATE KEY') && !text.includes(keyBody.slice(100, 140)), 'no key material in the answer');
      assert.equal(seen.length, 0, 'Vertex is never called without a token');
    } finally {
      tokenReply = () => ({ status: 200, body: { access_token: `ya29.e2e-${exchanges}`, expires_in: 3599, token_type: 'Bearer' } });
    }
  });

  it('an access token as the bearer key needs no exchange', async () => {
    exchanges = 0;
    const res = await post('/v1/embeddings', { model: 'text-embedding-005', input: ['a'] }, {
      'x-waygate-provider': 'vertex-ai',
      'x-waygate-custom-host': `${origin}/v1`,
      'x-waygate-vertex-project-id': 'tok-proj',
      authorization: 'Bearer client-access-token',
    });
    // The fake answers :predict with a 404 (no embeddings route): what matters is where it went and how.
    await res.arrayBuffer();
    assert.equal(exchanges, 0);
    assert.equal(seen[0]!.url, '/v1/projects/tok-proj/locations/us-central1/publishers/google/models/text-embedding-005:predict');
    assert.equal(seen[0]!.headers.authorization, 'Bearer client-access-token');
  });

  // With the default plugins: runs once one of them serves /v1/messages, skipped (pending) until then.
  messagesSuite(() => gw, () => origin, () => seen, true);

  describe('with a test-only Messages endpoint definition', () => {
    let gw2: Gateway;
    before(async () => {
      gw2 = await startGateway({
        config: { defaultPlugins: false, plugins: ['@waygate/provider-vertex-ai', fileURLToPath(new URL('./messages-endpoint.js', import.meta.url))] },
        port: 0,
        logger: createLogger({ level: 'silent' }),
        env: {},
      });
    });
    after(async () => {
      await gw2?.close(0);
    });
    messagesSuite(() => gw2, () => origin, () => seen, false);
  });
});

function messagesSuite(gateway: () => Gateway, fakeOrigin: () => string, upstream: () => Seen[], skipWithoutRoute: boolean): void {
  describe('Anthropic Messages pass-through (/v1/messages)', () => {
    const post = (route: string, body: object, headers: Record<string, string>) =>
      fetch(`${gateway().url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    let origin = '';
    let seen: Seen[] = [];
    beforeEach(() => {
      origin = fakeOrigin();
      seen = upstream();
    });
    const headers = () => ({
      'x-waygate-provider': 'vertex-ai',
      'x-waygate-custom-host': `${origin}/v1`,
      'x-waygate-vertex-project-id': 'msg-proj',
      'x-waygate-vertex-region': 'us-east5',
      authorization: 'Bearer client-access-token',
    });
    const body = { model: 'claude-sonnet-4-5@20250929', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };

    before(async function () {
      if (!skipWithoutRoute) return;
      // With the default plugins, the route exists once an endpoint plugin registers Anthropic's Messages API.
      const probe = await fetch(`${gateway().url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await probe.arrayBuffer();
      if (probe.status === 404) this.skip();
    });

    it('relays the Messages answer untouched, with model moved into the URL', async () => {
      const res = await post('/v1/messages', body, headers());
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.deepEqual(json, CLAUDE_ANSWER);
      const up = seen.at(-1)!;
      assert.equal(up.url, '/v1/projects/msg-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict');
      assert.deepEqual(JSON.parse(up.body), { anthropic_version: 'vertex-2023-10-16', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    });

    it('relays the Anthropic event stream as it came', async () => {
      const res = await post('/v1/messages', { ...body, stream: true }, headers());
      assert.equal(res.status, 200);
      const text = await res.text();
      for (const type of ['message_start', 'content_block_delta', 'message_stop']) assert.match(text, new RegExp(`event: ${type}`));
      assert.ok(!text.includes('chat.completion.chunk'), 'not translated to OpenAI chunks');
      assert.match(seen.at(-1)!.url, /:streamRawPredict$/);
    });

    it('is a 400 unsupported_endpoint for a Gemini model', async () => {
      const res = await post('/v1/messages', { ...body, model: 'gemini-2.0-flash' }, headers());
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.match(text, /Claude models only/);
      assert.equal(seen.length, 0, 'nothing was sent upstream');
    });
  });
}
