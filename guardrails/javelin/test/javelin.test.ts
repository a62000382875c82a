// javelin.guardrails against a loopback fake of Javelin's /v1/guardrails/apply, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { guardrails } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-javelin', () => {
  let jv: VendorFake;
  const creds = () => ({ apiKey: 'jv-key', application: 'my-app', baseURL: jv.url });
  const check = guardrails();
  // Javelin's documented answer (Standalone Guardrails): assessments[{<processor>: {results: {categories, category_scores, reject_prompt?}, request_reject}}].
  const assess = (reject: boolean) => ({
    json: {
      assessments: [
        {
          promptinjectiondetection: {
            results: {
              categories: { prompt_injection: reject, jailbreak: false },
              category_scores: { prompt_injection: reject ? 0.85 : 0.01, jailbreak: 0.12 },
              reject_prompt: 'Blocked by policy',
            },
            request_reject: reject,
          },
        },
        { trustsafety: { results: { categories: { violence: false }, category_scores: { violence: 0.02 } }, request_reject: false } },
      ],
    },
  });
  before(async () => (jv = await VendorFake.start()));
  after(() => jv.close());
  beforeEach(() => jv.reset());

  it('registers javelin.guardrails', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['javelin.guardrails']);
  });

  it('sends {"input": {"text"}} with the key and application headers; passes when nothing is rejected', async () => {
    jv.answer = () => assess(false);
    const r = await runCheck(check, { credentials: creds() }, { text: 'hi', headers: { authorization: 'Bearer caller-secret' } });
    expect(r.verdict).to.equal(true);
    expect(jv.last.url).to.equal('/v1/guardrails/apply');
    expect(jv.last.headers).to.include({ 'x-javelin-apikey': 'jv-key', 'x-javelin-application': 'my-app' });
    expect(JSON.stringify(jv.last.headers)).to.not.include('caller-secret');
    expect(jv.last.json).to.deep.equal({ input: { text: 'hi' }, config: {}, metadata: {} });
  });

  it('fails when an assessment rejects, with its reject_prompt', async () => {
    jv.answer = () => assess(true);
    const r = await runCheck(check, { credentials: creds() }, { response: { text: 'x' } });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ rejected: ['promptinjectiondetection'], reject_prompt: 'Blocked by policy' });
  });

  it('a 5xx, an unreachable host or a malformed answer throws', async () => {
    jv.answer = () => ({ status: 500, json: { error: 'x' } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('answered 500: x');
    expect(await failure(runCheck(check, { credentials: { ...creds(), baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    jv.answer = () => ({ json: { assessments: [] } });
    expect(await failure(runCheck(check, { credentials: creds() }))).to.include('without assessments');
  });

  it('refuses bad parameters by name; a domain with a scheme is accepted as in Portkey', () => {
    expect(refused(check, { credentials: { apiKey: 'k' } })).to.include('credentials.application');
    expect(refused(check, { credentials: { apiKey: 'k', application: 'a', domain: 'x/y' } })).to.include('credentials.domain');
    expect(refused(check, {})).to.include('credentials: Javelin credentials are required');
    expect(check.params.parse({ credentials: { apiKey: 'k', application: 'a', domain: 'https://api.javelin.live/' } }).credentials).to.include({
      domain: 'api.javelin.live',
    });
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with javelin.guardrails: 446 when rejected, 200 when not', async () => {
      jv.answer = (req) => assess(JSON.stringify(req.json).includes('jailbreak'));
      const hooks = { input_guardrails: [{ 'javelin.guardrails': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'jailbreak now')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
