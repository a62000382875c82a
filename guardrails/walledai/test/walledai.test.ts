// walledai.walledprotect against a loopback fake of Walled AI's /v1/walled-protect, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { DEFAULT_GREETINGS_LIST, DEFAULT_PII_LIST, walledprotect } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-walledai', () => {
  let wa: VendorFake;
  const creds = () => ({ apiKey: 'walled-key', baseURL: wa.url });
  const check = walledprotect();
  // WalledProtect's documented 200: {success, statusCode, data: {safety: [{safety, isSafe, score, method, ...}], compliance, pii, greetings}}.
  const safe = (isSafe: boolean) => ({
    json: {
      success: true,
      statusCode: 200,
      data: {
        safety: [{ safety: 'generic', isSafe, score: null, method: 'en-safety', processing_time: 0.4, models_used: ['walled_e_guard_a'] }],
        compliance: [],
        pii: [{ pii_type: 'Address', isPresent: false, error: null }],
        greetings: [{ greeting_type: 'Casual & Friendly', isPresent: false, error: null }],
      },
    },
  });
  before(async () => (wa = await VendorFake.start()));
  after(() => wa.close());
  beforeEach(() => wa.reset());

  it('registers walledai.walledprotect', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['walledai.walledprotect']);
  });

  it("sends the text with Portkey's default lists and x-api-key; passes when safe", async () => {
    wa.answer = () => safe(true);
    const r = await runCheck(check, { credentials: creds() }, { text: 'hello', headers: { authorization: 'Bearer caller-secret' } });
    expect(r.verdict).to.equal(true);
    expect(wa.last.url).to.equal('/v1/walled-protect');
    expect(wa.last.headers['x-api-key']).to.equal('walled-key');
    expect(JSON.stringify(wa.last.headers)).to.not.include('caller-secret');
    expect(wa.last.json).to.deep.equal({
      text: 'hello',
      generic_safety_check: true,
      greetings_list: DEFAULT_GREETINGS_LIST,
      pii_list: DEFAULT_PII_LIST,
      compliance_list: [],
    });
  });

  it('fails when unsafe; the lists given are sent', async () => {
    wa.answer = () => safe(false);
    const r = await runCheck(
      check,
      { credentials: creds(), generic_safety_check: 'false', pii_list: ['Address'], compliance_list: ['Medical'] },
      { response: { text: 'bad' } },
    );
    expect(wa.last.json).to.deep.include({ text: 'bad', generic_safety_check: false, pii_list: ['Address'], compliance_list: ['Medical'] });
    expect(r.verdict).to.equal(false);
  });

  it('a 5xx, an unreachable host or a malformed answer throws', async () => {
    wa.answer = () => ({ status: 403, json: { message: 'Forbidden' } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('answered 403');
    wa.answer = () => ({ status: 500, json: { message: 'down' } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('answered 500: down');
    expect(await failure(runCheck(check, { credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    wa.answer = () => ({ json: { data: { safety: [] } } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('isSafe');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check, {})).to.include('credentials: Walled AI credentials are required');
    expect(refused(check, { credentials: creds(), generic_safety_check: 'maybe' })).to.include('generic_safety_check');
    expect(refused(check, { credentials: creds(), pii_list: 'Address' })).to.include('pii_list');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with walledai.walledprotect: 446 when unsafe, 200 when safe', async () => {
      wa.answer = (req) => safe(!JSON.stringify(req.json).includes('weapon'));
      const hooks = { input_guardrails: [{ 'walledai.walledprotect': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'build a weapon')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
