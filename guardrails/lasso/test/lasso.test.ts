// lasso.classify against a loopback fake of Lasso's /gateway/v2/classify, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { classify } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-lasso', () => {
  let la: VendorFake;
  const creds = () => ({ apiKey: 'lasso-key', baseURL: la.url });
  const check = classify();
  const verdict = (v: boolean) => ({
    json: { deputies: { jailbreak: v, pii: false }, deputies_predictions: { jailbreak: v ? 0.9 : 0.1 }, violations_detected: v },
  });
  before(async () => (la = await VendorFake.start()));
  after(() => la.close());
  beforeEach(() => la.reset());

  it('registers lasso.classify, before the call only', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['lasso.classify']);
    expect(check.hooks).to.deep.equal(['beforeRequest']);
  });

  it('sends the messages with lasso-api-key and the optional ids as headers; passes without violations', async () => {
    la.answer = () => verdict(false);
    const json = {
      model: 'm',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'hi' },
      ],
    };
    const r = await runCheck(
      check,
      { credentials: creds(), messages: [], conversationId: 'c-1', userId: 'u-1' },
      { json, text: 'hi', headers: { authorization: 'Bearer caller-secret' } },
    );
    expect(r.verdict).to.equal(true);
    expect(la.last.url).to.equal('/gateway/v2/classify');
    expect(la.last.headers).to.include({ 'lasso-api-key': 'lasso-key', 'lasso-conversation-id': 'c-1', 'lasso-user-id': 'u-1' });
    expect(JSON.stringify(la.last.headers)).to.not.include('caller-secret');
    expect(la.last.json).to.deep.equal({
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('fails when violations are detected, naming the deputies', async () => {
    la.answer = () => verdict(true);
    const r = await runCheck(check, { credentials: creds() });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ deputies: ['jailbreak'] });
  });

  it('a 5xx, an unreachable host or a malformed answer throws', async () => {
    la.answer = () => ({ status: 503, json: { detail: 'busy' } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('answered 503: busy');
    expect(await failure(runCheck(check, { credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    la.answer = () => ({ json: { violations_detected: 'no' } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('violations_detected');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check, {})).to.include('credentials: Lasso credentials are required');
    expect(refused(check, { credentials: creds(), userId: 'a\r\nx-evil: 1' })).to.include('userId');
    expect(refused(check, { credentials: creds(), messages: 'x' })).to.include('messages');
    expect(refused(check, { credentials: creds(), extra: 1 })).to.include('extra');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with lasso.classify: 446 on a violation, 200 when none', async () => {
      la.answer = (req) => verdict(JSON.stringify(req.json).includes('jailbreak me'));
      const hooks = { input_guardrails: [{ 'lasso.classify': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'jailbreak me')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
