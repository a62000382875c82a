// OCI's request signature, checked against an independent verifier (test/fake-oci.ts) and the public key.
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { thrown } from '@waygate/core/testing';
import { contentSha256, keyIdOf, normalizePem, privateKeyOf, signRequest, signingString } from '../src/signer.js';
import { checkSignature, makeKeyPair, signatureParams } from './fake-oci.js';
import { FINGERPRINT, KEYS, KEY_ID, TENANCY, USER } from './fixtures.js';

const CREDS = { tenancy: TENANCY, user: USER, fingerprint: FINGERPRINT, privateKey: KEYS.privateKey };
const DATE = Date.UTC(2014, 0, 5, 21, 31, 40);

/** What a server would receive for a signed request: the headers (with host) and the path. */
function received(method: string, url: string, headers: Record<string, string>, body = '') {
  const u = new URL(url);
  return { method, url: `${u.pathname}${u.search}`, headers: { ...headers, host: u.host }, body };
}

describe('OCI request signing', () => {
  it('signs a POST over date, (request-target), host and the three body headers, in that order', () => {
    const body = '{"compartmentId":"ocid1.compartment.oc1..x"}';
    const url = 'https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat?x=1';
    const h = signRequest({ method: 'POST', url, headers: { 'Content-Type': 'application/json' }, body, credentials: CREDS, date: DATE });
    expect(h.date).to.equal('Sun, 05 Jan 2014 21:31:40 GMT');
    expect(h['content-length']).to.equal(String(body.length));
    expect(h['x-content-sha256']).to.equal(contentSha256(body));
    expect(h['content-type']).to.equal('application/json');
    expect(h.host).to.equal(undefined);
    const p = signatureParams(h.authorization)!;
    expect(p).to.include({
      version: '1',
      keyId: KEY_ID,
      algorithm: 'rsa-sha256',
      headers: 'date (request-target) host content-length content-type x-content-sha256',
    });
    expect(checkSignature(received('POST', url, h, body), KEYS.publicKey, KEY_ID, DATE)).to.equal(undefined);
  });

  it('the verifier refuses a changed body, path, host or date, and another key', () => {
    const body = '{"a":1}';
    const url = 'https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat';
    const h = signRequest({ method: 'POST', url, headers: {}, body, credentials: CREDS, date: DATE });
    const r = received('POST', url, h, body);
    expect(checkSignature({ ...r, body: '{"a":2}' }, KEYS.publicKey, KEY_ID, DATE)).to.equal('x-content-sha256 does not match the body');
    expect(checkSignature({ ...r, url: '/20231130/actions/embedText' }, KEYS.publicKey, KEY_ID, DATE)).to.equal('signature does not verify');
    expect(checkSignature({ ...r, headers: { ...r.headers, host: 'evil.example' } }, KEYS.publicKey, KEY_ID, DATE)).to.equal('signature does not verify');
    expect(checkSignature(r, KEYS.publicKey, KEY_ID, DATE + 10 * 60_000)).to.equal('date missing or skewed');
    expect(checkSignature(r, makeKeyPair().publicKey, KEY_ID, DATE)).to.equal('signature does not verify');
  });

  it('a GET signs only date, (request-target) and host', () => {
    const url = 'https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/models';
    const h = signRequest({ method: 'GET', url, headers: {}, credentials: CREDS, date: DATE });
    expect(signatureParams(h.authorization)!.headers).to.equal('date (request-target) host');
    expect(h['x-content-sha256']).to.equal(undefined);
    expect(checkSignature(received('GET', url, h), KEYS.publicKey, KEY_ID, DATE)).to.equal(undefined);
  });

  it('hashes an empty body as OCI documents, and builds the signing string line by line', () => {
    expect(contentSha256('')).to.equal('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(signingString(['date', '(request-target)', 'host'], { date: 'D', '(request-target)': 'get /x', host: 'h' })).to.equal(
      'date: D\n(request-target): get /x\nhost: h',
    );
    expect(keyIdOf(CREDS)).to.equal(KEY_ID);
  });

  it('reads a PEM given on one line with \\n escapes, and caches the parsed key', () => {
    const oneLine = KEYS.privateKey.trim().replace(/\n/g, '\\n');
    expect(normalizePem(oneLine)).to.equal(KEYS.privateKey.trim());
    expect(privateKeyOf(oneLine)).to.equal(privateKeyOf(KEYS.privateKey));
  });

  it('a key it cannot read, or one that is not RSA, is a 400 that quotes nothing of it', () => {
    const bad = thrown(() => privateKeyOf('-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----'));
    expect([bad.status, bad.code, bad.param]).to.deep.equal([400, 'invalid_config', 'oracle_private_key']);
    expect(bad.message).not.to.include('MIIB');
    expect((bad as Error).cause).to.equal(undefined);
    const ec = thrown(() => privateKeyOf(makeEcKey()));
    expect(ec.message).to.include('RSA');
  });
});

function makeEcKey(): string {
  // An EC key: readable, but not what OCI signs with.
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
