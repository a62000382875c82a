// Service-account auth: the JWT (structure and RS256 signature, checked with node:crypto against a
// key pair generated for this run), key-file parsing, and the token cache against a loopback token
// endpoint that counts exchanges.
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '@waygate/core';
import type { BuildInput, EndpointAdapter } from '@waygate/core';
import { CLOUD_PLATFORM_SCOPE, JWT_BEARER_GRANT, TokenCache, createVertexProvider, parseServiceAccount, signServiceAccountJwt } from '../src/index.js';
import { decodeJwt, makeInput, serviceAccountJson, startTokenServer, testKeys } from './helpers.js';
import type { TokenServer } from './helpers.js';

const pemBody = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

/** Fails if a text holds any part of the test private key (or its PEM armour). */
function assertNoKey(text: string): void {
  const body = pemBody(testKeys().privateKeyPem);
  assert.ok(!text.includes('PRIVATE KEY'), 'no PEM armour');
  for (let i = 0; i + 24 <= body.length; i += 24) assert.ok(!text.includes(body.slice(i, i + 24)), 'no private key material');
}

async function rejectsGateway(p: Promise<unknown> | unknown, status: number, code: string): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail('expected a GatewayError');
}

describe('vertex-ai: service account JWT', () => {
  it('is RS256 with the key id, cloud-platform scope, aud = token_uri and one hour of life', () => {
    const sa = parseServiceAccount(serviceAccountJson('https://oauth2.googleapis.com/token'), 'sa');
    const jwt = signServiceAccountJwt(sa, 1_700_000_000);
    assert.equal(jwt.split('.').length, 3);
    const { header, claims, signingInput, signature } = decodeJwt(jwt);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: 'kid-0123456789abcdef' });
    assert.deepEqual(claims, {
      iss: 'gateway@sa-project.iam.gserviceaccount.com',
      scope: CLOUD_PLATFORM_SCOPE,
      aud: 'https://oauth2.googleapis.com/token',
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    assert.ok(!/[=+/]/.test(jwt), 'base64url without padding');
    assert.ok(verify('sha256', Buffer.from(signingInput), testKeys().publicKeyPem, signature), 'signature verifies with the public key');
  });

  it('has a signature that a changed claim breaks, and that another key does not verify', () => {
    const sa = parseServiceAccount(serviceAccountJson('https://oauth2.googleapis.com/token'), 'sa');
    const { signingInput, signature } = decodeJwt(signServiceAccountJwt(sa, 1_700_000_000));
    const forged = Buffer.from(JSON.stringify({ iss: 'attacker@example.com' })).toString('base64url');
    assert.ok(!verify('sha256', Buffer.from(`${signingInput.split('.')[0]}.${forged}`), testKeys().publicKeyPem, signature));
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assert.ok(!verify('sha256', Buffer.from(signingInput), other, signature));
  });

  it('leaves kid out when the key file has no private_key_id', () => {
    const sa = parseServiceAccount(serviceAccountJson('https://oauth2.googleapis.com/token', { private_key_id: undefined }), 'sa');
    assert.deepEqual(decodeJwt(signServiceAccountJwt(sa, 1)).header, { alg: 'RS256', typ: 'JWT' });
  });
});

describe('vertex-ai: service account key files', () => {
  const where = 'x-waygate-vertex-service-account-json';
  const sa = () => serviceAccountJson('https://oauth2.googleapis.com/token');

  it('accepts the object or its JSON text, and a key pasted with escaped newlines', () => {
    const a = parseServiceAccount(sa(), where);
    const b = parseServiceAccount(JSON.stringify(sa()), where);
    const c = parseServiceAccount(JSON.stringify({ ...sa(), private_key: testKeys().privateKeyPem.replace(/\n/g, '\\n') }), where);
    assert.equal(a.id, b.id);
    assert.equal(a.clientEmail, c.clientEmail);
    assert.equal(a.projectId, 'sa-project');
    assert.equal(a.tokenUri, 'https://oauth2.googleapis.com/token');
  });

  it("defaults token_uri to Google's", () => {
    assert.equal(parseServiceAccount({ ...sa(), token_uri: undefined }, where).tokenUri, 'https://oauth2.googleapis.com/token');
  });

  it('rejects malformed key files with a 400 that never shows the key', async () => {
    const cases: unknown[] = [
      '{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE',
      42,
      { ...sa(), client_email: undefined },
      { ...sa(), private_key: undefined },
      { ...sa(), private_key: testKeys().privateKeyPem.slice(0, 400) },
      { ...sa(), type: 'authorized_user' },
      {
        ...sa(),
        private_key: generateKeyPairSync('ec', {
          namedCurve: 'P-256',
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        }).privateKey,
      },
    ];
    for (const c of cases) {
      const err = await rejectsGateway((async () => parseServiceAccount(c, where))(), 400, 'invalid_config');
      assert.ok(err.message.startsWith(where), err.message);
      assertNoKey(JSON.stringify(err.toBody()));
      assertNoKey(err.message);
    }
  });

  it('refuses a token_uri that points at a cloud metadata address', async () => {
    await rejectsGateway(
      (async () => parseServiceAccount({ ...sa(), token_uri: 'http://169.254.169.254/computeMetadata/v1/token' }, where))(),
      400,
      'forbidden_custom_host',
    );
    await rejectsGateway(
      (async () => parseServiceAccount({ ...sa(), token_uri: 'http://metadata.google.internal/token' }, where))(),
      400,
      'forbidden_custom_host',
    );
  });
});

describe('vertex-ai: access tokens from a service account', function () {
  this.timeout(20_000);
  let server: TokenServer;
  let clock = 1_800_000_000_000;
  let cache: TokenCache;
  let chat: EndpointAdapter;
  const body = { model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'Hi' }] };
  const saInput = (extra: Record<string, unknown> = {}): BuildInput =>
    makeInput(body, { node: { vertex_region: 'us-central1', vertex_service_account_json: serviceAccountJson(server.url, extra) } });
  /** What the kernel will do: await prepare, then build with the same input. */
  const call = async (input: BuildInput) => {
    await chat.prepare?.(input);
    return chat.build(input);
  };

  beforeEach(async () => {
    server = await startTokenServer();
    clock = 1_800_000_000_000;
    cache = new TokenCache({ now: () => clock });
    chat = createVertexProvider({ tokenCache: cache }).endpoints['chat.completions'] as EndpointAdapter;
  });
  afterEach(async () => {
    await server.close();
  });

  it('exchanges a signed JWT (jwt-bearer grant, form-encoded) at token_uri and sends the access token', async () => {
    const req = await call(saInput());
    assert.equal(server.count, 1);
    assert.equal(server.contentTypes[0], 'application/x-www-form-urlencoded');
    const form = server.forms[0]!;
    assert.equal(form.get('grant_type'), JWT_BEARER_GRANT);
    const { header, claims, signingInput, signature } = decodeJwt(form.get('assertion')!);
    assert.equal(header.alg, 'RS256');
    assert.equal(claims.aud, server.url);
    assert.equal(claims.iat, Math.floor(clock / 1000));
    assert.equal(claims.exp - claims.iat, 3600);
    assert.ok(verify('sha256', Buffer.from(signingInput), testKeys().publicKeyPem, signature));
    assert.equal(req.headers.authorization, 'Bearer ya29.token-1');
    assert.equal(
      req.url,
      'https://us-central1-aiplatform.googleapis.com/v1/projects/sa-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent',
    );
    assertNoKey(JSON.stringify(req));
  });

  it('N requests → 1 exchange; a cached token needs no await at all', async () => {
    for (let i = 0; i < 8; i++) {
      const req = await call(saInput());
      assert.equal(req.headers.authorization, 'Bearer ya29.token-1');
    }
    assert.equal(server.count, 1);
    assert.equal(chat.prepare!(saInput()), undefined, 'prepare returns no promise when the token is cached');
  });

  it('concurrent requests → 1 exchange, shared', async () => {
    server.reply = (n) => ({ body: { access_token: `ya29.token-${n}`, expires_in: 3599 }, delayMs: 100 });
    const reqs = await Promise.all(Array.from({ length: 20 }, () => call(saInput())));
    assert.equal(server.count, 1);
    for (const r of reqs) assert.equal(r.headers.authorization, 'Bearer ya29.token-1');
  });

  it('renews 5 minutes before expiry (in the background while the old token is good), and waits once it has expired', async () => {
    await call(saInput());
    clock += (3599 - 301) * 1000; // just before the refresh point
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-1');
    assert.equal(server.count, 1);

    clock += 2000; // inside the last five minutes: still answered with the old token, renewed behind it
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-1');
    await waitFor(() => server.count === 2);
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-2');
    assert.equal(server.count, 2);

    clock += 2 * 3600 * 1000; // long expired: the request waits for a new token
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-3');
    assert.equal(server.count, 3);
  });

  it('honours a short expires_in', async () => {
    server.reply = (n) => ({ body: { access_token: `ya29.token-${n}`, expires_in: 60 } });
    await call(saInput());
    clock += 61_000;
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-2');
    assert.equal(server.count, 2);
  });

  it('keeps one token per service account: another key id, or the same ids with another key, is another account', async () => {
    await call(saInput());
    await call(saInput({ private_key_id: 'kid-other' }));
    const otherKey = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const forged = await call(saInput({ private_key: otherKey }));
    assert.equal(server.count, 3, 'same client_email and key id with a different private key never reuses the cached token');
    assert.equal(forged.headers.authorization, 'Bearer ya29.token-3');
  });

  it('a refused exchange is a 401 naming the reason, never the key or the assertion, and is not cached', async () => {
    server.reply = (_n, form) => ({ status: 400, body: { error: 'invalid_grant', error_description: `Invalid JWT Signature. ${form.get('assertion')}` } });
    const err = await rejectsGateway(call(saInput()), 401, 'upstream_error');
    assert.match(err.message, /token endpoint refused the service account gateway@sa-project\.iam\.gserviceaccount\.com/);
    assert.match(err.message, /invalid_grant: Invalid JWT Signature/);
    assert.equal(err.retryable, false);
    assertNoKey(err.message);
    assert.ok(!err.message.includes(server.forms[0]!.get('assertion')!), 'the assertion is not echoed');
    assert.ok(!err.message.includes(server.forms[0]!.get('assertion')!.split('.')[2]!), 'nor its signature');

    server.reply = (n) => ({ body: { access_token: `ya29.token-${n}`, expires_in: 3599 } });
    assert.equal((await call(saInput())).headers.authorization, 'Bearer ya29.token-2');
  });

  it('a token endpoint outage is a retryable 502', async () => {
    server.reply = () => ({ status: 503, body: { error: 'temporarily_unavailable' } });
    const err = await rejectsGateway(call(saInput()), 502, 'upstream_error');
    assert.equal(err.retryable, true);
    server.reply = () => ({ status: 200, body: { token_type: 'Bearer' } });
    const bad = await rejectsGateway(call(saInput()), 502, 'upstream_bad_response');
    assert.match(bad.message, /without an access_token/);
  });

  it('an unreachable token endpoint is a retryable 502', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const input = makeInput(body, { node: { vertex_service_account_json: serviceAccountJson(`http://127.0.0.1:${port}/token`) } });
    const err = await rejectsGateway(call(input), 502, 'upstream_unreachable');
    assert.equal(err.retryable, true);
    assertNoKey(err.message);
  });

  it('build() without prepare() and no cached token is a clear 500, not an unauthenticated call', () => {
    assert.throws(
      () => chat.build(saInput()),
      (e: unknown) => e instanceof GatewayError && e.status === 500 && /await endpoint\.prepare\(input\) before build\(input\)/.test(e.message),
    );
  });

  it('prepare() is a no-op for access-token auth', () => {
    const input = makeInput(body, { apiKey: 'ya29.client', node: { vertex_project_id: 'p' } });
    assert.equal(chat.prepare!(input), undefined);
    assert.equal(chat.build(input).headers.authorization, 'Bearer ya29.client');
    assert.equal(server.count, 0);
  });

  it('the service account wins over a bearer key', async () => {
    const input = makeInput(body, { apiKey: 'portkey-or-other-key', node: { vertex_service_account_json: serviceAccountJson(server.url) } });
    assert.equal((await call(input)).headers.authorization, 'Bearer ya29.token-1');
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
  // Let the exchange's continuation store the token.
  await new Promise((r) => setTimeout(r, 20));
}
