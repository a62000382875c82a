// callVendor against a loopback fake: what it sends, and every way a vendor call fails (closed).
import { expect } from 'chai';
import { newKernel } from '@waygate/core/testing';
import { callVendor, baseUrlParam, vendorMessage } from '../src/index.js';
import { VendorFake, failure } from '../src/testing.js';

describe('@waygate/guardrail-vendor-kit', () => {
  let fake: VendorFake;
  const kernel = newKernel();
  const input = (signal = new AbortController().signal) => ({ egress: kernel.egress, signal });
  before(async () => (fake = await VendorFake.start()));
  after(() => fake.close());
  beforeEach(() => fake.reset());

  it('POSTs JSON with only the given headers and returns the JSON answer', async () => {
    fake.answer = () => ({ json: { ok: true } });
    const out = await callVendor(input(), { vendor: 'V', url: `${fake.url}/x?y=1`, headers: { 'x-key': 'k' }, body: { a: 1 }, timeout: 2000 });
    expect(out).to.deep.equal({ ok: true });
    expect(fake.last).to.deep.include({ method: 'POST', url: '/x?y=1', json: { a: 1 } });
    expect(fake.last.headers).to.include({ 'x-key': 'k', 'content-type': 'application/json' });
    expect(fake.last.headers).to.not.have.property('authorization');
  });

  it('a 5xx is a failure naming the vendor, its status and its message', async () => {
    fake.answer = () => ({ status: 503, json: { error: { message: 'overloaded' } } });
    expect(await failure(callVendor(input(), { vendor: 'V', url: fake.url, body: {}, timeout: 2000 }))).to.equal(
      `V (${fake.url}) answered 503: overloaded`,
    );
  });

  it('no answer within the timeout is a failure saying so', async () => {
    fake.answer = () => ({ hang: true });
    expect(await failure(callVendor(input(), { vendor: 'V', url: fake.url, body: {}, timeout: 50 }))).to.include('did not answer within 50 ms');
  });

  it('a body that is not JSON, and a redirect (not followed), are failures', async () => {
    fake.answer = () => ({ raw: '<html>' });
    expect(await failure(callVendor(input(), { vendor: 'V', url: fake.url, body: {}, timeout: 2000 }))).to.include('not JSON');
    fake.answer = () => ({ status: 302, headers: { location: 'http://example.com/' }, raw: '' });
    expect(await failure(callVendor(input(), { vendor: 'V', url: fake.url, body: {}, timeout: 2000 }))).to.include('answered 302');
    expect(fake.received).to.have.length(2);
  });

  it('a cancelled request cancels the call', async () => {
    fake.answer = () => ({ hang: true });
    const ac = new AbortController();
    const p = callVendor(input(ac.signal), { vendor: 'V', url: fake.url, body: {}, timeout: 5000 });
    setTimeout(() => ac.abort(), 20);
    expect(await failure(p)).to.include('was cancelled');
  });

  it('the egress policy refuses a private address when it says deny, before any connection', async () => {
    const strict = newKernel({ egress: { private: 'deny' } });
    const msg = await failure(
      callVendor({ egress: strict.egress, signal: new AbortController().signal }, { vendor: 'V', url: fake.url, body: {}, timeout: 2000 }),
    );
    expect(msg).to.include('was not called');
    expect(fake.received).to.have.length(0);
  });

  it('baseUrlParam refuses credentials, queries, other schemes and metadata hosts', () => {
    expect(baseUrlParam.parse('https://h.example/v1/')).to.equal('https://h.example/v1');
    for (const bad of ['ftp://h', 'https://u:p@h.example', 'https://h.example/?k=1', 'http://169.254.169.254', 'nope']) {
      expect(baseUrlParam.safeParse(bad).success, bad).to.equal(false);
    }
  });

  it('vendorMessage takes the message, never the whole body', () => {
    expect(vendorMessage('{"error":{"message":"bad"},"secret":"x"}')).to.equal(': bad');
    expect(vendorMessage('{"detail":"nope"}')).to.equal(': nope');
    expect(vendorMessage('not json')).to.equal('');
  });
});
