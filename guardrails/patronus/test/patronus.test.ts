// patronus.* against a loopback fake of Patronus' /v1/evaluate, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { createPatronusChecks, maskSpans } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const IDS = [
  'phi',
  'pii',
  'isConcise',
  'isHelpful',
  'isPolite',
  'noApologies',
  'noGenderBias',
  'noRacialBias',
  'retrievalAnswerRelevance',
  'retrievalHallucination',
  'toxicity',
  'custom',
];

describe('@waygate/guardrail-patronus', () => {
  let pa: VendorFake;
  const creds = () => ({ apiKey: 'patronus-key', baseURL: pa.url });
  const checks = createPatronusChecks();
  const check = (id: string): GuardrailCheck => {
    const c = checks.find((x) => x.id === id);
    if (!c) throw new Error(`no ${id}`);
    return c;
  };
  const evaluation = (pass: boolean, info: Record<string, unknown> = {}) => ({
    json: {
      results: [
        // Patronus' EvaluationEvaluateResponse (patronus-api-node): criteria, error_message, evaluator_id, status, evaluation_result.
        {
          criteria: null,
          error_message: null,
          evaluator_id: 'x',
          status: 'success',
          evaluation_result: {
            pass,
            score_raw: pass ? 1 : 0,
            explanation: pass ? 'fine' : 'bad',
            additional_info: { confidence_interval: null, extra: null, ...info },
          },
        },
      ],
    },
  });
  const answer = { response: { text: 'Sorry, I am sorry.' }, text: 'why?' };
  before(async () => (pa = await VendorFake.start()));
  after(() => pa.close());
  beforeEach(() => pa.reset());

  it("registers Portkey's patronus ids, all after the call", async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.have.members(IDS.map((id) => `patronus.${id}`));
    for (const c of checks) expect(c.hooks).to.deep.equal(['afterResponse']);
  });

  const judges: Array<[string, string, string | undefined]> = [
    ['isConcise', 'judge', 'patronus:is-concise'],
    ['isHelpful', 'judge', 'patronus:is-helpful'],
    ['isPolite', 'judge', 'patronus:is-polite'],
    ['noApologies', 'judge', 'patronus:no-apologies'],
    ['noGenderBias', 'judge', 'patronus:no-gender-bias'],
    ['noRacialBias', 'judge', 'patronus:no-racial-bias'],
    ['retrievalAnswerRelevance', 'answer-relevance', undefined],
    ['retrievalHallucination', 'hallucination', 'patronus:hallucination'],
    ['toxicity', 'toxicity', undefined],
  ];
  for (const [id, evaluator, criteria] of judges) {
    it(`${id}: sends evaluator ${evaluator}${criteria ? ` / ${criteria}` : ''} with input and output; its verdict is evaluation_result.pass`, async () => {
      pa.answer = () => evaluation(false);
      const r = await runCheck(
        check(id),
        { credentials: creds() },
        { ...answer, headers: { authorization: 'Bearer caller-secret', 'x-api-key': 'caller-key' } },
      );
      expect(pa.last.url).to.equal('/v1/evaluate');
      expect(pa.last.headers['x-api-key']).to.equal('patronus-key');
      expect(pa.last.headers).to.not.have.property('authorization');
      expect(pa.last.json).to.deep.equal({
        evaluators: [{ evaluator, ...(criteria ? { criteria } : {}), explain_strategy: 'always' }],
        evaluated_model_input: 'why?',
        evaluated_model_output: 'Sorry, I am sorry.',
      });
      expect(r.verdict).to.equal(false);
      pa.answer = () => evaluation(true);
      expect((await runCheck(check(id), { credentials: creds() }, answer)).verdict).to.equal(true);
    });
  }

  it('custom: profile "evaluator:criteria", or a criteria for judge', async () => {
    pa.answer = () => evaluation(true);
    await runCheck(check('custom'), { credentials: creds(), profile: 'glider:my-rubric' }, answer);
    expect((pa.last.json as { evaluators: unknown[] }).evaluators[0]).to.deep.include({ evaluator: 'glider', criteria: 'my-rubric' });
    await runCheck(check('custom'), { credentials: creds(), profile: 'my-custom' }, answer);
    expect((pa.last.json as { evaluators: unknown[] }).evaluators[0]).to.deep.include({ evaluator: 'judge', criteria: 'my-custom' });
    await runCheck(check('custom'), { credentials: creds(), criteria: 'judge:legacy-name' }, answer);
    expect((pa.last.json as { evaluators: unknown[] }).evaluators[0]).to.deep.include({ evaluator: 'judge', criteria: 'legacy-name' });
    expect(refused(check('custom'), { credentials: creds() })).to.include('profile');
    expect(refused(check('custom'), { credentials: creds(), profile: 'judge:' })).to.include('profile');
  });

  for (const id of ['pii', 'phi']) {
    it(`${id}: sends only the answer; fails when found, passes when not`, async () => {
      pa.answer = () => evaluation(false, { positions: [[5, 16]] });
      const r = await runCheck(check(id), { credentials: creds() }, { response: { text: 'mail alice@b.com now' }, text: 'q' });
      expect(pa.last.json).to.deep.equal({ evaluators: [{ evaluator: id, explain_strategy: 'always' }], evaluated_model_output: 'mail alice@b.com now' });
      expect(r.verdict).to.equal(false);
      expect(r.transformedText).to.equal(undefined);
      pa.answer = () => evaluation(true);
      expect((await runCheck(check(id), { credentials: creds() }, { response: { text: 'hi' } })).verdict).to.equal(true);
    });
    it(`${id} with redact: passes and the masked answer replaces the original`, async () => {
      pa.answer = () =>
        evaluation(false, {
          positions: [
            [5, 16],
            [21, 24],
          ],
        });
      const r = await runCheck(check(id), { credentials: creds(), redact: true }, { response: { text: 'mail alice@b.com and 555' } });
      expect(r.verdict).to.equal(true);
      expect(r.transformedText).to.equal('mail a*********m and ***');
      pa.answer = () => evaluation(false, { positions: [[5, 99]] });
      expect(await failure(runCheck(check(id), { credentials: creds(), redact: true }, { response: { text: 'short' } }))).to.include('outside');
      pa.answer = () => evaluation(false, {});
      expect(await failure(runCheck(check(id), { credentials: creds(), redact: true }, { response: { text: 'short' } }))).to.include('no positions');
    });
  }

  it('maskSpans keeps text outside the spans', () => {
    expect(
      maskSpans('abcdefgh', [
        [0, 2],
        [3, 8],
      ]),
    ).to.equal('**cd***h');
  });

  it('a 5xx, an unreachable host, an error_message without a result or a malformed answer throws', async () => {
    for (const id of ['toxicity', 'pii', 'custom']) {
      const params = { credentials: creds(), ...(id === 'custom' ? { profile: 'x' } : {}) };
      pa.answer = () => ({ status: 500, json: { detail: 'boom' } });
      expect(await failure(runCheck(check(id), params, answer))).to.include('answered 500: boom');
      expect(await failure(runCheck(check(id), { ...params, credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }, answer))).to.include(
        'could not be reached',
      );
      pa.answer = () => ({
        json: { results: [{ criteria: null, error_message: 'criteria not found', evaluator_id: 'x', status: 'failed', evaluation_result: null }] },
      });
      expect(await failure(runCheck(check(id), params, answer))).to.include('criteria not found');
      pa.answer = () => ({ json: { results: 'no' } });
      expect(await failure(runCheck(check(id), params, answer))).to.include('results[0]');
    }
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check('toxicity'), {})).to.include('credentials: Patronus credentials are required');
    expect(refused(check('toxicity'), { credentials: { apiKey: 'a\nb' } })).to.include('credentials.apiKey');
    expect(refused(check('pii'), { credentials: creds(), redact: 'no' })).to.include('redact');
    expect(refused(check('isConcise'), { credentials: creds(), redact: true })).to.include('redact');
    expect(check('isConcise').params.parse({ credentials: { apiKey: 'k' } })).to.deep.include({ timeout: 15000 });
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('output_guardrails with patronus.toxicity: 446 when it fails, 200 when it passes', async () => {
      let pass = true;
      pa.answer = () => evaluation(pass);
      const hooks = { output_guardrails: [{ 'patronus.toxicity': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      pass = false;
      const denied = await g.ask(hooks, 'hello');
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.after_request_hooks[0].checks[0]).to.deep.include({ id: 'patronus.toxicity', verdict: false });
    });
  });
});
