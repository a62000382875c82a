// pillar.scanPrompt and pillar.scanResponse against a loopback fake of Pillar's /scan API, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { createPillarChecks } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-pillar', () => {
  let pi: VendorFake;
  const creds = () => ({ apiKey: 'pillar-key', baseURL: pi.url });
  const [scanPrompt, scanResponse] = createPillarChecks() as [GuardrailCheck, GuardrailCheck];
  before(async () => (pi = await VendorFake.start()));
  after(() => pi.close());
  beforeEach(() => pi.reset());

  it('registers both, each on its side of the call', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.have.members(['pillar.scanPrompt', 'pillar.scanResponse']);
    expect(scanPrompt.hooks).to.deep.equal(['beforeRequest']);
    expect(scanResponse.hooks).to.deep.equal(['afterResponse']);
  });

  it('scanPrompt sends the message and the scanners as a map; passes on false or null', async () => {
    pi.answer = () => ({ json: { prompt_injection: false, pii: null } });
    const r = await runCheck(
      scanPrompt,
      { credentials: creds(), scanners: ['prompt_injection', 'pii'] },
      { text: 'hi', headers: { authorization: 'Bearer caller-secret' } },
    );
    expect(r.verdict).to.equal(true);
    expect(pi.last.url).to.equal('/scan/prompt');
    expect(pi.last.headers.authorization).to.equal('Bearer pillar-key');
    expect(pi.last.json).to.deep.equal({ message: 'hi', scanners: { prompt_injection: true, pii: true } });
  });

  it('scanResponse fails when a chosen scanner finds something, not for one not chosen', async () => {
    pi.answer = () => ({ json: { pii: true, secrets: false, toxic_language: null } });
    const r = await runCheck(scanResponse, { credentials: creds() }, { response: { text: 'my ssn' } });
    expect(pi.last.url).to.equal('/scan/response');
    expect(pi.last.json).to.deep.equal({ message: 'my ssn', scanners: { pii: true, secrets: true, toxic_language: true } });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ found: ['pii'] });
    expect((await runCheck(scanResponse, { credentials: creds(), scanners: ['secrets'] }, { response: { text: 'x' } })).verdict).to.equal(true);
  });

  it('a 5xx, an unreachable host or a malformed answer throws', async () => {
    pi.answer = () => ({ status: 500, json: { detail: 'no' } });
    expect(await failure(runCheck(scanPrompt, { credentials: creds() }))).to.include('answered 500: no');
    expect(await failure(runCheck(scanPrompt, { credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    pi.answer = () => ({ json: { unrelated: 1 } });
    expect(await failure(runCheck(scanPrompt, { credentials: creds() }))).to.include('none of the scanners');
    pi.answer = () => ({ json: [true] });
    expect(await failure(runCheck(scanPrompt, { credentials: creds() }))).to.include('not an object');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(scanResponse, { credentials: creds(), scanners: ['prompt_injection'] })).to.include('scanners.0');
    expect(refused(scanPrompt, { credentials: creds(), scanners: [] })).to.include('scanners');
    expect(refused(scanPrompt, {})).to.include('credentials: Pillar credentials are required');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with pillar.scanPrompt: 446 on a finding, 200 when none', async () => {
      pi.answer = (req) => ({ json: { prompt_injection: JSON.stringify(req.json).includes('ignore') } });
      const hooks = { input_guardrails: [{ 'pillar.scanPrompt': { credentials: creds(), scanners: ['prompt_injection'] }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'ignore it all')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
