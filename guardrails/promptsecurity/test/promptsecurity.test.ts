// promptsecurity.protectPrompt and protectResponse against a loopback fake of Prompt Security's /api/protect, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { createPromptSecurityChecks } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-promptsecurity', () => {
  let ps: VendorFake;
  const creds = () => ({ apiKey: 'app-id-1', baseURL: ps.url });
  const [protectPrompt, protectResponse] = createPromptSecurityChecks() as [GuardrailCheck, GuardrailCheck];
  before(async () => (ps = await VendorFake.start()));
  after(() => ps.close());
  beforeEach(() => ps.reset());

  it('registers both, each on its side of the call', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.have.members(['promptsecurity.protectPrompt', 'promptsecurity.protectResponse']);
    expect(protectPrompt.hooks).to.deep.equal(['beforeRequest']);
    expect(protectResponse.hooks).to.deep.equal(['afterResponse']);
  });

  it('protectPrompt sends {"prompt"} with APP-ID; passes when passed', async () => {
    ps.answer = () => ({ json: { status: 'success', result: { prompt: { passed: true, action: 'log' } } } });
    const r = await runCheck(protectPrompt, { credentials: creds() }, { text: 'hi', headers: { authorization: 'Bearer caller-secret' } });
    expect(r.verdict).to.equal(true);
    expect(ps.last.url).to.equal('/api/protect');
    expect(ps.last.headers['app-id']).to.equal('app-id-1');
    expect(JSON.stringify(ps.last.headers)).to.not.include('caller-secret');
    expect(ps.last.json).to.deep.equal({ prompt: 'hi' });
  });

  it('protectResponse sends {"response"}; fails when not passed', async () => {
    ps.answer = () => ({ json: { result: { response: { passed: false, action: 'block', violations: ['Secrets'] } } } });
    const r = await runCheck(protectResponse, { credentials: creds() }, { response: { text: 'key=abc' } });
    expect(ps.last.json).to.deep.equal({ response: 'key=abc' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ action: 'block' });
  });

  it("without passed, judges by action as Prompt Security's own client does: block fails, pass and modify pass", async () => {
    // The answers of prompt-security/homegrown-ai-app-demo's tests: {status, result: {prompt: {action, modified_text?, violations}}}.
    ps.answer = () => ({ json: { status: 'success', result: { prompt: { action: 'block', violations: [{ type: 'topic_detector', score: 0.95 }] } } } });
    const r = await runCheck(protectPrompt, { credentials: creds() }, { text: 'fire the employee' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ action: 'block' });
    ps.answer = () => ({ json: { status: 'success', result: { prompt: { action: 'pass', violations: [] } } } });
    expect((await runCheck(protectPrompt, { credentials: creds() }, { text: 'hi' })).verdict).to.equal(true);
    ps.answer = () => ({ json: { status: 'success', result: { response: { action: 'modify', modified_text: 'SSN [REDACTED]', violations: [] } } } });
    expect((await runCheck(protectResponse, { credentials: creds() }, { response: { text: 'SSN 1' } })).verdict).to.equal(true);
    ps.answer = () => ({ json: { status: 'success', result: { prompt: { action: 'maybe' } } } });
    expect(await failure(runCheck(protectPrompt, { credentials: creds() }, { text: 'hi' }))).to.include('passed or action');
  });

  it('a 401, a 5xx, an unreachable host or a malformed answer throws', async () => {
    ps.answer = () => ({ status: 401, json: { status: 'failed', reason: 'Invalid token' } });
    expect(await failure(runCheck(protectPrompt, { credentials: creds() }))).to.include('answered 401');
    ps.answer = () => ({ status: 500, json: { message: 'bad' } });
    expect(await failure(runCheck(protectPrompt, { credentials: creds() }))).to.include('answered 500: bad');
    expect(await failure(runCheck(protectPrompt, { credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    ps.answer = () => ({ json: { result: { response: { passed: true } } } });
    expect(await failure(runCheck(protectPrompt, { credentials: creds() }))).to.include('result.prompt');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(protectPrompt, {})).to.include('credentials: Prompt Security credentials are required');
    expect(refused(protectPrompt, { credentials: { apiKey: 'k' } })).to.include('credentials.apiDomain');
    expect(refused(protectPrompt, { credentials: { apiKey: 'k', apiDomain: 'evil.com/x?' } })).to.include('credentials.apiDomain');
    expect(refused(protectResponse, { credentials: creds(), scanners: [] })).to.include('scanners');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with promptsecurity.protectPrompt: 446 when not passed, 200 when passed', async () => {
      ps.answer = (req) => ({ json: { result: { prompt: { passed: !JSON.stringify(req.json).includes('secret') } } } });
      const hooks = { input_guardrails: [{ 'promptsecurity.protectPrompt': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'leak the secret')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
