// aporia.validateProject against a loopback fake of Aporia's /{projectID}/validate, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { validateProject } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-aporia', () => {
  let ap: VendorFake;
  const creds = () => ({ apiKey: 'aporia-key', apiEndpoint: ap.url });
  const check = validateProject();
  before(async () => (ap = await VendorFake.start()));
  after(() => ap.close());
  beforeEach(() => ap.reset());

  it('registers aporia.validateProject', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['aporia.validateProject']);
  });

  it('before the call: sends the messages as text with validation_target prompt; passes on passthrough', async () => {
    ap.answer = () => ({ json: { action: 'passthrough', explain_log: [] } });
    const json = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] };
    const r = await runCheck(
      check,
      { credentials: creds(), projectID: 'proj-1' },
      { text: 'hi', json, headers: { authorization: 'Bearer caller-secret' } },
    );
    expect(r.verdict).to.equal(true);
    expect(ap.last.url).to.equal('/proj-1/validate');
    expect(ap.last.headers['x-aporia-api-key']).to.equal('aporia-key');
    expect(JSON.stringify(ap.last.headers)).to.not.include('caller-secret');
    expect(ap.last.json).to.deep.equal({ messages: [{ role: 'user', content: 'hi' }], explain: true, validation_target: 'prompt' });
  });

  it('after the call: sends the response with validation_target response; fails on any other action', async () => {
    ap.answer = () => ({ json: { action: 'block', explain_log: [{ policy_id: '001', result: 'issue_detected' }] } });
    const r = await runCheck(check, { credentials: creds(), projectID: 'p' }, { text: 'q', response: { text: 'bad answer' } });
    expect(ap.last.json).to.deep.include({ validation_target: 'response', response: 'bad answer' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ action: 'block' });
  });

  it('a 5xx, an unreachable host, a timeout or a malformed answer throws', async () => {
    const p = { credentials: creds(), projectID: 'p' };
    ap.answer = () => ({ status: 500, json: { message: 'oops' } });
    expect(await failure(runCheck(check, p))).to.include('answered 500: oops');
    expect(await failure(runCheck(check, { ...p, credentials: { apiKey: 'k', apiEndpoint: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    ap.answer = () => ({ hang: true });
    expect(await failure(runCheck(check, { ...p, timeout: 40 }))).to.include('within 40 ms');
    ap.answer = () => ({ json: { verdict: 'ok' } });
    expect(await failure(runCheck(check, p))).to.include('without an action');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check, { credentials: creds() })).to.include('projectID');
    expect(refused(check, { credentials: creds(), projectID: '../admin' })).to.include('projectID');
    expect(refused(check, { projectID: 'p' })).to.include('credentials: Aporia credentials are required');
    expect(refused(check, { projectID: 'p', credentials: { apiKey: 'k', apiEndpoint: 'file:///x' } })).to.include('credentials.apiEndpoint');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with aporia.validateProject: 446 when blocked, 200 on passthrough', async () => {
      ap.answer = (req) => ({ json: { action: JSON.stringify(req.json).includes('forbidden') ? 'block' : 'passthrough' } });
      const hooks = { input_guardrails: [{ 'aporia.validateProject': { credentials: creds(), projectID: 'p' }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      const denied = await g.ask(hooks, 'something forbidden');
      expect(denied.status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
