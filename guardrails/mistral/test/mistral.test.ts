// mistral.moderateContent against a loopback fake of Mistral's moderation API, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { moderateContent } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-mistral', () => {
  let mi: VendorFake;
  const creds = () => ({ apiKey: 'mistral-key', baseURL: mi.url });
  const check = moderateContent();
  const result = (categories: Record<string, boolean>) => ({
    json: {
      id: 'm1',
      model: 'mistral-moderation-2411',
      results: [{ categories: { sexual: false, pii: false, selfharm: false, ...categories }, category_scores: { sexual: 0.01, pii: 0.9, selfharm: 0.0 } }],
    },
  });
  before(async () => (mi = await VendorFake.start()));
  after(() => mi.close());
  beforeEach(() => mi.reset());

  it('registers mistral.moderateContent', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['mistral.moderateContent']);
  });

  it('before a chat call, sends the conversation to /v1/chat/moderations', async () => {
    mi.answer = () => result({});
    const json = {
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi there' }] },
      ],
    };
    const r = await runCheck(check, { credentials: creds(), categories: ['pii'] }, { text: 'hi there', json });
    expect(r.verdict).to.equal(true);
    expect(mi.last.url).to.equal('/v1/chat/moderations');
    expect(mi.last.headers.authorization).to.equal('Bearer mistral-key');
    expect(mi.last.json).to.deep.equal({
      model: 'mistral-moderation-latest',
      input: [
        [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi there' },
        ],
      ],
    });
  });

  it('after the call, sends the answer text to /v1/moderations; fails on a listed category only', async () => {
    mi.answer = () => result({ pii: true });
    const r = await runCheck(
      check,
      { credentials: creds(), categories: ['pii', 'sexual'], model: 'mistral-moderation-2411' },
      { response: { text: 'call 555' } },
    );
    expect(mi.last.url).to.equal('/v1/moderations');
    expect(mi.last.json).to.deep.equal({ model: 'mistral-moderation-2411', input: ['call 555'] });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ flagged_categories: ['pii'] });
    expect((await runCheck(check, { credentials: creds(), categories: ['sexual'] }, { response: { text: 'call 555' } })).verdict).to.equal(true);
  });

  it('a 401, a 5xx, a timeout or a malformed answer throws', async () => {
    mi.answer = () => ({ status: 401, json: { message: 'Unauthorized' } });
    expect(await failure(runCheck(check, { credentials: creds(), categories: ['pii'] }, { response: { text: 'x' } }))).to.include(
      'answered 401: Unauthorized',
    );
    mi.answer = () => ({ status: 500, json: {} });
    expect(await failure(runCheck(check, { credentials: creds(), categories: ['pii'] }, { response: { text: 'x' } }))).to.include('answered 500');
    mi.answer = () => ({ hang: true });
    expect(await failure(runCheck(check, { credentials: creds(), categories: ['pii'], timeout: 40 }, { response: { text: 'x' } }))).to.include(
      'within 40 ms',
    );
    mi.answer = () => ({ json: { results: [{}] } });
    expect(await failure(runCheck(check, { credentials: creds(), categories: ['pii'] }, { response: { text: 'x' } }))).to.include('categories');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check, { credentials: creds() })).to.include('categories');
    expect(refused(check, { credentials: creds(), categories: ['spam'] })).to.include('categories.0');
    expect(refused(check, { categories: ['pii'] })).to.include('credentials: Mistral credentials are required');
    expect(refused(check, { categories: ['pii'], credentials: { apiKey: '' } })).to.include('credentials.apiKey');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with mistral.moderateContent: 446 when a category is flagged, 200 when not', async () => {
      mi.answer = (req) => result({ selfharm: JSON.stringify(req.json).includes('hurt myself') });
      const hooks = { input_guardrails: [{ 'mistral.moderateContent': { credentials: creds(), categories: ['selfharm'] }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      const denied = await g.ask(hooks, 'I want to hurt myself');
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.deep.include({ id: 'mistral.moderateContent', verdict: false });
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
