import { expect } from 'chai';
import { generateKeyPairSync, sign, constants } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createJwtCheck } from '../src/index.js';
import type { JwtCheckOptions } from '../src/index.js';
import { newKernel } from '@waygate/core/testing';
import { TestServer, closedPort, input, json, rejects } from './helpers.js';

interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

function key(kid: string, alg: string): TestKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: alg === 'RS-weak' ? 1024 : 2048 });
  const realAlg = alg === 'RS-weak' ? 'RS256' : alg;
  return { kid, alg: realAlg, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg: realAlg, use: 'sig' } };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS signed with node:crypto (header alg and kid from the key unless overridden). */
function token(k: TestKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const head = { alg: k.alg, typ: 'JWT', kid: k.kid, ...header };
  const input = `${b64(head)}.${b64(claims)}`;
  const data = Buffer.from(input);
  let sig: Buffer;
  if (k.alg === 'EdDSA') sig = sign(null, data, k.privateKey);
  else if (k.alg === 'ES256') sig = sign('sha256', data, { key: k.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (k.alg === 'PS256')
    sig = sign('sha256', data, { key: k.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  else sig = sign('sha256', data, k.privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

describe('default.jwt', function () {
  this.timeout(30000); // RSA key generation
  const rsa = key('rsa-1', 'RS256');
  const pss = key('pss-1', 'PS256');
  const ec = key('ec-1', 'ES256');
  const ed = key('ed-1', 'EdDSA');
  const rotated = key('rsa-2', 'RS256');
  const weak = key('weak', 'RS-weak');
  const stranger = key('rsa-1', 'RS256'); // same kid, another key pair

  let jwks: TestServer;
  let published: TestKey[];
  let clock: number;
  const opts: JwtCheckOptions = { now: () => clock, minRefreshMs: 10_000 };
  const nowS = () => Math.floor(clock / 1000);

  before(async () => {
    jwks = await TestServer.start((req, res) => {
      if (req.url === '/broken') return json(res, 500, { error: 'down' });
      json(res, 200, { keys: published.map((k) => k.jwk) });
    });
  });
  after(() => jwks.close());
  beforeEach(() => {
    jwks.received.length = 0;
    published = [rsa, pss, ec, ed, weak];
    clock = Date.now();
  });

  const params = (extra: Record<string, unknown> = {}) => ({ jwksUri: `${jwks.url}/jwks.json`, ...extra });
  const check = (jwt = createJwtCheck(opts), p: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    jwt.run(input(jwt, params(p), { headers }));
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const fresh = () => ({ sub: 'user-1', iat: nowS(), exp: nowS() + 600 });

  it('accepts an RS256 token from Authorization, fetching the key set once and caching it', async () => {
    const jwt = createJwtCheck(opts);
    const r = await check(jwt, {}, bearer(token(rsa, fresh())));
    expect(r.verdict, JSON.stringify(r.data)).to.equal(true);
    expect(r.data).to.deep.include({ alg: 'RS256', kid: 'rsa-1' });
    expect((await check(jwt, {}, bearer(token(rsa, fresh())))).verdict).to.equal(true);
    expect(jwks.received).to.have.length(1);
    expect(jwks.received[0]!.method).to.equal('GET');
  });

  it('accepts PS256, ES256 and EdDSA', async () => {
    const jwt = createJwtCheck(opts);
    for (const k of [pss, ec, ed]) {
      const r = await check(jwt, {}, bearer(token(k, fresh())));
      expect(r.verdict, `${k.alg}: ${JSON.stringify(r.data)}`).to.equal(true);
    }
  });

  it('reads the header named by headerKey, with or without "Bearer "', async () => {
    const r = await check(undefined, { headerKey: 'X-User-Token' }, { 'x-user-token': token(ec, fresh()) });
    expect(r.verdict).to.equal(true);
  });

  it('fails without the header, or with something that is not a JWT', async () => {
    expect((await check(undefined, {}, {})).verdict).to.equal(false);
    expect((await check(undefined, {}, bearer('sk-not-a-jwt'))).verdict).to.equal(false);
    expect((await check(undefined, {}, bearer('a.b.c'))).verdict).to.equal(false);
  });

  it('fails a tampered payload and a token signed by another key with the same kid', async () => {
    const [h, , s] = token(rsa, fresh()).split('.');
    const forged = `${h}.${b64({ ...fresh(), sub: 'admin' })}.${s}`;
    const r = await check(undefined, {}, bearer(forged));
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ explanation: 'The signature is not valid.' });
    expect((await check(undefined, {}, bearer(token(stranger, fresh())))).verdict).to.equal(false);
  });

  it('refuses alg none, HMAC, an algorithm not allowed, and a key whose type does not fit the alg', async () => {
    const unsigned = `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(fresh())}.`;
    expect((await check(undefined, {}, bearer(unsigned))).verdict).to.equal(false);
    const hs = `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64(fresh())}.c2ln`;
    expect((await check(undefined, {}, bearer(hs))).verdict).to.equal(false);
    expect((await check(undefined, { algorithms: ['ES256'] }, bearer(token(rsa, fresh())))).verdict).to.equal(false);
    // An ES256 header pointing at the RSA key: the key does not fit, whatever the signature.
    const confused = token(ec, fresh(), { kid: 'rsa-1' });
    expect((await check(undefined, {}, bearer(confused))).verdict).to.equal(false);
  });

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const r = await check(undefined, {}, bearer(token(weak, fresh())));
    expect(r.verdict).to.equal(false);
  });

  it('checks exp and nbf with clockTolerance', async () => {
    const t = nowS();
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t - 100, exp: t - 60 })))).verdict).to.equal(false);
    expect((await check(undefined, { clockTolerance: 120 }, bearer(token(rsa, { iat: t - 100, exp: t - 60 })))).verdict).to.equal(true);
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t, nbf: t + 60 })))).verdict).to.equal(false);
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t, nbf: t + 3 })))).verdict).to.equal(true);
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t + 600 })))).verdict).to.equal(false);
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t, exp: 'soon' })))).verdict).to.equal(false);
  });

  it('maxTokenAge: tokens older than it fail (1d by default), a token without iat fails unless it is 0', async () => {
    const t = nowS();
    expect((await check(undefined, {}, bearer(token(rsa, { iat: t - 2 * 86400 })))).verdict).to.equal(false);
    expect((await check(undefined, { maxTokenAge: '1h' }, bearer(token(rsa, { iat: t - 7200 })))).verdict).to.equal(false);
    expect((await check(undefined, { maxTokenAge: '3h' }, bearer(token(rsa, { iat: t - 7200 })))).verdict).to.equal(true);
    expect((await check(undefined, {}, bearer(token(rsa, { sub: 'x' })))).verdict).to.equal(false);
    expect((await check(undefined, { maxTokenAge: 0 }, bearer(token(rsa, { sub: 'x' })))).verdict).to.equal(true);
  });

  it('checks issuer and audience when given', async () => {
    const claims = { ...fresh(), iss: 'https://idp.example', aud: ['gateway', 'other'] };
    expect((await check(undefined, { issuer: 'https://idp.example', audience: 'gateway' }, bearer(token(rsa, claims)))).verdict).to.equal(true);
    expect((await check(undefined, { issuer: 'https://evil.example' }, bearer(token(rsa, claims)))).verdict).to.equal(false);
    expect((await check(undefined, { audience: ['billing'] }, bearer(token(rsa, claims)))).verdict).to.equal(false);
  });

  it('a token without kid uses the only key that fits its algorithm', async () => {
    published = [rsa];
    expect((await check(undefined, {}, bearer(token(rsa, fresh(), { kid: undefined })))).verdict).to.equal(true);
    published = [rsa, rotated];
    expect((await check(undefined, {}, bearer(token(rsa, fresh(), { kid: undefined })))).verdict).to.equal(false);
  });

  it('an unknown kid refreshes the set (keys rotate), at most once per minRefreshMs', async () => {
    const jwt = createJwtCheck(opts);
    expect((await check(jwt, {}, bearer(token(rsa, fresh())))).verdict).to.equal(true);
    published = [rsa, rotated];
    // Within 10 s of the last fetch: no refresh, the new key is not known yet.
    clock += 5_000;
    expect((await check(jwt, {}, bearer(token(rotated, fresh())))).verdict).to.equal(false);
    expect(jwks.received).to.have.length(1);
    clock += 6_000;
    expect((await check(jwt, {}, bearer(token(rotated, fresh())))).verdict).to.equal(true);
    expect(jwks.received).to.have.length(2);
  });

  it('refetches once cacheMaxAge has passed, and not before', async () => {
    const jwt = createJwtCheck(opts);
    await check(jwt, { cacheMaxAge: 60 }, bearer(token(rsa, fresh())));
    clock += 59_000;
    await check(jwt, { cacheMaxAge: 60 }, bearer(token(rsa, fresh())));
    expect(jwks.received).to.have.length(1);
    clock += 2_000;
    await check(jwt, { cacheMaxAge: 60 }, bearer(token(rsa, fresh())));
    expect(jwks.received).to.have.length(2);
  });

  it('concurrent requests share one fetch of the key set', async () => {
    const jwt = createJwtCheck(opts);
    const results = await Promise.all([1, 2, 3, 4].map(() => check(jwt, {}, bearer(token(rsa, fresh())))));
    expect(results.every((r) => r.verdict)).to.equal(true);
    expect(jwks.received).to.have.length(1);
  });

  it('throws when the key set cannot be had (so the guardrail fails closed)', async () => {
    let err: Error | undefined;
    try {
      await check(undefined, { jwksUri: `${jwks.url}/broken` }, bearer(token(rsa, fresh())));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/answered 500/);
    const port = await closedPort();
    err = undefined;
    try {
      await check(undefined, { jwksUri: `http://127.0.0.1:${port}/jwks` }, bearer(token(rsa, fresh())));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/could not be reached/);
  });

  it('fetches the key set under the egress policy: a JWKS host that resolves to a refused address fails closed, unconnected', async () => {
    const egress = newKernel({ egress: { private: 'deny' } }).egress;
    const before = jwks.connections;
    let err: Error | undefined;
    try {
      const jwt = createJwtCheck(opts);
      await jwt.run(input(jwt, { jwksUri: `${jwks.url.replace('127.0.0.1', 'localhost')}/jwks` }, { headers: bearer(token(rsa, fresh())), egress }));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/was not called: host localhost resolves to 127\.0\.0\.1, a loopback address, refused by the egress policy/);
    expect(jwks.connections).to.equal(before);
  });

  it('parameters: defaults as Portkey, and bad values rejected', () => {
    const jwt = createJwtCheck();
    const p = jwt.params.parse({ jwksUri: 'https://idp.example/.well-known/jwks.json' });
    expect(p).to.deep.include({ headerKey: 'authorization', cacheMaxAge: 86400, clockTolerance: 5, maxTokenAge: 86400, timeout: 3000 });
    expect(jwt.params.parse({ jwksUri: 'https://i.example/j', maxTokenAge: '2 hours' }).maxTokenAge).to.equal(7200);
    expect(rejects(jwt, {})).to.match(/jwksUri/);
    expect(rejects(jwt, { jwksUri: 'http://169.254.169.254/jwks' })).to.match(/metadata/);
    expect(rejects(jwt, { jwksUri: 'https://i.example/j', maxTokenAge: 'forever' })).to.match(/not a duration/);
    expect(rejects(jwt, { jwksUri: 'https://i.example/j', algorithms: ['HS256'] })).to.match(/algorithms/);
    expect(rejects(jwt, { jwksUri: 'https://i.example/j', clockTolerance: -1 })).to.match(/clockTolerance/);
    expect(jwt.hooks).to.deep.equal(['beforeRequest']);
  });
});
