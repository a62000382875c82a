// End to end: a real gateway (default plugins plus this one) → a fake Vertex AI on loopback that also
// plays Google's OAuth token endpoint. Service-account auth through the kernel's prepare() step, one
// token exchange for many requests, and Anthropic's Messages API (served by the default
// @waygate/anthropic-messages plugin): Claude models passed through, Gemini models through its bridge.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, createLogger } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { jsonFixture, sseFixture } from './fixtures.js';
import { serviceAccountJson, testKeys } from './helpers.js';

const GEMINI_ANSWER = jsonFixture('gemini-text-answer');
const GEMINI_STREAM = sseFixture('gemini-text-stream');
const CLAUDE_ANSWER = jsonFixture('claude-text-answer');
const CLAUDE_STREAM = sseFixture('claude-text-stream');

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
  let tokenReply: () => { status: number; body: unknown } = () => ({
    status: 200,
    body: { access_token: `ya29.e2e-${exchanges}`, expires_in: 3599, token_type: 'Bearer' },
  });

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
        if (method === 'predict' && m[4]!.startsWith('imagen-'))
          return send(200, { predictions: [{ mimeType: 'image/png', bytesBase64Encoded: 'iVBORw0KGgo=' }] });
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

  it("a service account in Portkey's header: many requests, sequential and concurrent, share one token exchange", async () => {
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
    const config = {
      provider: 'vertex-ai',
      custom_host: `${origin}/v1`,
      vertex_project_id: 'cfg-proj',
      vertex_region: 'europe-west1',
      vertex_service_account_json: sa({ private_key_id: 'kid-e2e-2' }),
    };
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
      assert.match(
        JSON.parse(text).error.message,
        /token endpoint refused the service account gateway@sa-project\.iam\.gserviceaccount\.com.*invalid_grant/,
      );
      const keyBody = testKeys()
        .privateKeyPem.replace(/-----[A-Z ]+-----/g, '')
        .replace(/\s+/g, '');
      assert.ok(!text.includes('PRIVATE KEY') && !text.includes(keyBody.slice(100, 140)), 'no key material in the answer');
      assert.equal(seen.length, 0, 'Vertex is never called without a token');
    } finally {
      tokenReply = () => ({ status: 200, body: { access_token: `ya29.e2e-${exchanges}`, expires_in: 3599, token_type: 'Bearer' } });
    }
  });

  it('an access token as the bearer key needs no exchange', async () => {
    exchanges = 0;
    const res = await post(
      '/v1/embeddings',
      { model: 'text-embedding-005', input: ['a'] },
      {
        'x-waygate-provider': 'vertex-ai',
        'x-waygate-custom-host': `${origin}/v1`,
        'x-waygate-vertex-project-id': 'tok-proj',
        authorization: 'Bearer client-access-token',
      },
    );
    // The fake answers :predict with a 404 (no embeddings route): what matters is where it went and how.
    await res.arrayBuffer();
    assert.equal(exchanges, 0);
    assert.equal(seen[0]!.url, '/v1/projects/tok-proj/locations/us-central1/publishers/google/models/text-embedding-005:predict');
    assert.equal(seen[0]!.headers.authorization, 'Bearer client-access-token');
  });

  it('image generations go to the Imagen model’s predict, with Imagen’s body, and come back as b64_json; a Claude model is a 400 never sent', async () => {
    const headers = {
      'x-waygate-provider': 'vertex-ai',
      'x-waygate-custom-host': `${origin}/v1`,
      'x-waygate-vertex-project-id': 'img-proj',
      authorization: 'Bearer client-access-token',
    };
    const res = await post('/v1/images/generations', { model: 'imagen-4.0-generate-001', prompt: 'a lighthouse', n: 2, size: '1024x1792' }, headers);
    const json = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.deepEqual(json.data, [{ b64_json: 'iVBORw0KGgo=' }]);
    assert.equal(seen[0]!.url, '/v1/projects/img-proj/locations/us-central1/publishers/google/models/imagen-4.0-generate-001:predict');
    assert.deepEqual(JSON.parse(seen[0]!.body), { instances: [{ prompt: 'a lighthouse' }], parameters: { sampleCount: 2, aspectRatio: '9:16' } });
    seen.length = 0;
    const claude = await post('/v1/images/generations', { model: 'claude-sonnet-4-5@20250929', prompt: 'x' }, headers);
    assert.equal(claude.status, 400);
    assert.match(((await claude.json()) as any).error.message, /Imagen/);
    assert.equal(seen.length, 0);
  });

  // /v1/messages is served by @waygate/anthropic-messages, one of the default plugins.
  messagesSuite(
    () => gw,
    () => origin,
    () => seen,
    () => exchanges,
  );
});

function messagesSuite(gateway: () => Gateway, fakeOrigin: () => string, upstream: () => Seen[], exchangeCount: () => number): void {
  describe('Anthropic Messages API (/v1/messages): Claude passed through, Gemini through the bridge', () => {
    const post = (route: string, body: object, headers: Record<string, string>) =>
      fetch(`${gateway().url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    let origin = '';
    let seen: Seen[] = [];
    beforeEach(() => {
      origin = fakeOrigin();
      seen = upstream();
    });
    const headers = (auth: Record<string, string> = { authorization: 'Bearer client-access-token' }) => ({
      'x-waygate-provider': 'vertex-ai',
      'x-waygate-custom-host': `${origin}/v1`,
      'x-waygate-vertex-project-id': 'msg-proj',
      'x-waygate-vertex-region': 'us-east5',
      ...auth,
    });
    const body = { model: 'claude-sonnet-4-5@20250929', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] };
    const gemini = { model: 'gemini-2.0-flash', max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] };
    const GEMINI_URL = '/v1/projects/msg-proj/locations/us-east5/publishers/google/models/gemini-2.0-flash';

    /** The events of an SSE body, with their names and parsed data. */
    const events = (text: string) =>
      text
        .split(/\n\n/)
        .filter((block) => block.trim())
        .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) }));

    it('Claude: relays the Messages answer untouched, with model moved into the URL', async () => {
      const res = await post('/v1/messages', body, headers());
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.deepEqual(json, CLAUDE_ANSWER);
      const up = seen.at(-1)!;
      assert.equal(up.url, '/v1/projects/msg-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict');
      assert.deepEqual(JSON.parse(up.body), { anthropic_version: 'vertex-2023-10-16', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    });

    it('Claude: relays the Anthropic event stream as it came', async () => {
      const res = await post('/v1/messages', { ...body, stream: true }, headers());
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.deepEqual(
        events(text).map((e) => e.event),
        CLAUDE_STREAM.map((frame) => /^event: (.*)$/m.exec(frame)![1]),
      );
      assert.ok(!text.includes('chat.completion.chunk'), 'not translated to OpenAI chunks');
      assert.match(seen.at(-1)!.url, /:streamRawPredict$/);
    });

    it('Gemini: the Anthropic request goes out as generateContent and the answer comes back as a Message', async () => {
      const res = await post('/v1/messages', gemini, headers());
      const json = (await res.json()) as any;
      assert.equal(res.status, 200, JSON.stringify(json));
      assert.equal(json.type, 'message');
      assert.equal(json.role, 'assistant');
      assert.equal(json.model, 'gemini-2.0-flash-001', 'the model version Vertex reports');
      assert.deepEqual(json.content, [{ type: 'text', text: 'Hello!' }]);
      assert.equal(json.stop_reason, 'end_turn');
      // Gemini's usage (19 prompt tokens of which 4 cached; 3 answer + 5 thought tokens) in Anthropic's terms.
      assert.deepEqual(json.usage, { input_tokens: 15, cache_creation_input_tokens: 0, cache_read_input_tokens: 4, output_tokens: 8 });
      const up = seen.at(-1)!;
      assert.equal(up.url, `${GEMINI_URL}:generateContent`);
      assert.equal(up.headers.authorization, 'Bearer client-access-token');
      const sent = JSON.parse(up.body);
      assert.deepEqual(sent.contents, [{ role: 'user', parts: [{ text: 'Hi' }] }]);
      assert.deepEqual(sent.systemInstruction, { parts: [{ text: 'Be brief.' }] });
      assert.deepEqual(sent.generationConfig, { maxOutputTokens: 64 });
    });

    it("Gemini: streamGenerateContent comes back as Anthropic's event sequence", async () => {
      const res = await post('/v1/messages', { ...gemini, stream: true }, headers());
      assert.equal(res.status, 200);
      const got = events(await res.text());
      assert.equal(got[0]!.event, 'message_start');
      assert.equal(got.at(-1)!.event, 'message_stop');
      for (const e of got) assert.equal(e.data.type, e.event, 'each event names its type');
      const text = got
        .filter((e) => e.event === 'content_block_delta')
        .map((e) => e.data.delta.text)
        .join('');
      assert.equal(text, 'Hello, wörld 👋!');
      const delta = got.find((e) => e.event === 'message_delta')!;
      assert.equal(delta.data.delta.stop_reason, 'end_turn');
      assert.ok(delta.data.usage.output_tokens > 0, 'usage from the stream');
      assert.equal(seen.at(-1)!.url, `${GEMINI_URL}:streamGenerateContent?alt=sse`);
    });

    it('Gemini with a service account: the token step (prepare) runs through the bridge too', async () => {
      const before = exchangeCount();
      const account = JSON.stringify(serviceAccountJson(`${origin}/token`, { private_key_id: 'kid-e2e-messages' }));
      const res = await post('/v1/messages', gemini, headers({ 'x-waygate-vertex-service-account-json': account }));
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal(exchangeCount(), before + 1);
      assert.match(String(seen.at(-1)!.headers.authorization), /^Bearer ya29\.e2e-\d+$/);
    });

    for (const model of ['gemini-2.0-flash', 'claude-sonnet-4-5@20250929']) {
      it(`${model}: Vertex's google.rpc 401 comes back in Anthropic's error shape`, async () => {
        const res = await post('/v1/messages', { ...gemini, model }, headers({ authorization: 'Bearer expired-token' }));
        const json = (await res.json()) as any;
        assert.equal(res.status, 401, JSON.stringify(json));
        assert.equal(json.type, 'error');
        assert.equal(json.error.type, 'authentication_error');
        assert.match(json.error.message, /Request had invalid authentication credentials/);
        assert.equal(seen.length, 1);
      });
    }
  });
}
