// qualifire.* against a loopback fake of Qualifire's /api/evaluation/evaluate, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import type { GuardrailCheck } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { createQualifireChecks } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-qualifire', () => {
  let qf: VendorFake;
  const creds = () => ({ apiKey: 'qf-key', baseURL: qf.url });
  const checks = createQualifireChecks();
  const check = (id: string): GuardrailCheck => checks.find((c) => c.id === id) as GuardrailCheck;
  // Qualifire's EvaluationResponse: status (success | warning | failed), score, evaluationResults[{type, results}].
  const status = (s: string) => ({
    json: {
      status: s,
      score: 50,
      evaluationResults: [{ type: 'x', results: [{ name: 'x', score: 50, label: 'x', confidence_score: 50, reason: 'r', flagged: s === 'failed' }] }],
    },
  });
  before(async () => (qf = await VendorFake.start()));
  after(() => qf.close());
  beforeEach(() => qf.reset());

  it("registers Portkey's seven qualifire ids with their hooks", async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.have.members(
      ['contentModeration', 'hallucinations', 'pii', 'promptInjections', 'grounding', 'toolUseQuality', 'policy'].map((i) => `qualifire.${i}`),
    );
    expect(check('promptInjections').hooks).to.deep.equal(['beforeRequest']);
    expect(check('grounding').hooks).to.deep.equal(['afterResponse']);
  });

  const simple: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['contentModeration', {}, { content_moderation_check: true }],
    ['pii', {}, { pii_check: true }],
    ['hallucinations', { mode: 'quality' }, { hallucinations_check: true, hallucinations_mode: 'quality' }],
    ['grounding', {}, { grounding_check: true, grounding_mode: 'balanced' }],
  ];
  for (const [id, params, flags] of simple) {
    it(`${id}: sends input, output and its flags with the key; fails on status failed`, async () => {
      qf.answer = () => status('failed');
      const r = await runCheck(
        check(id),
        { credentials: creds(), ...params },
        { text: 'q', response: { text: 'a' }, headers: { authorization: 'Bearer caller-secret' } },
      );
      expect(qf.last.url).to.equal('/api/v1/evaluation/evaluate');
      expect(qf.last.headers['x-qualifire-api-key']).to.equal('qf-key');
      expect(JSON.stringify(qf.last.headers)).to.not.include('caller-secret');
      expect(qf.last.json).to.deep.equal({ input: 'q', output: 'a', ...flags });
      expect(r.verdict).to.equal(false);
      qf.answer = () => status('success');
      expect((await runCheck(check(id), { credentials: creds(), ...params }, { text: 'q', response: { text: 'a' } })).verdict).to.equal(true);
      qf.answer = () => status('warning');
      expect((await runCheck(check(id), { credentials: creds(), ...params }, { text: 'q', response: { text: 'a' } })).verdict).to.equal(true);
    });
  }

  it('promptInjections sends only the input', async () => {
    qf.answer = () => status('success');
    await runCheck(check('promptInjections'), { credentials: creds() }, { text: 'q' });
    expect(qf.last.json).to.deep.equal({ input: 'q', prompt_injections: true });
  });

  it('policy: assertions and policy_target', async () => {
    qf.answer = () => status('failed');
    const r = await runCheck(
      check('policy'),
      { credentials: creds(), policies: ['never mention prices'], policy_target: 'output' },
      { text: 'q', response: { text: 'it costs $5' } },
    );
    expect(qf.last.json).to.deep.equal({
      assertions: ['never mention prices'],
      assertions_mode: 'balanced',
      policy_target: 'output',
      output: 'it costs $5',
    });
    expect(r.verdict).to.equal(false);
    expect(refused(check('policy'), { credentials: creds() })).to.include('policies');
    expect(refused(check('policy'), { credentials: creds(), policies: ['x'], policy_target: 'all' })).to.include('policy_target');
  });

  it('toolUseQuality: the last message, the answer with its tool calls, and the function tools', async () => {
    qf.answer = () => status('success');
    const json = {
      model: 'm',
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: 'weather?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'w', parameters: { type: 'object' } } }],
    };
    const answer = {
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
          },
        },
      ],
    };
    await runCheck(check('toolUseQuality'), { credentials: creds(), mode: 'speed' }, { json, text: 'weather?', response: { text: '', json: answer } });
    expect(qf.last.json).to.deep.equal({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: '', tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] },
      ],
      available_tools: [{ name: 'get_weather', description: 'w', parameters: { type: 'object' } }],
      tool_use_quality_check: true,
      tuq_mode: 'speed',
    });
  });

  it('a 5xx, an unreachable host or a malformed answer throws', async () => {
    qf.answer = () => ({ status: 500, json: { error: 'x' } });
    expect(await failure(runCheck(check('pii'), { credentials: creds() }))).to.include('answered 500: x');
    expect(await failure(runCheck(check('pii'), { credentials: { apiKey: 'k', baseURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    qf.answer = () => ({ json: { evaluationResults: [] } });
    expect(await failure(runCheck(check('pii'), { credentials: creds() }))).to.include('without a status');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check('pii'), {})).to.include('credentials: Qualifire credentials are required');
    expect(refused(check('grounding'), { credentials: creds(), mode: 'fast' })).to.include('mode');
    expect(refused(check('pii'), { credentials: creds(), mode: 'speed' })).to.include('mode');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with qualifire.promptInjections: 446 on failed, 200 on success', async () => {
      qf.answer = (req) => status(JSON.stringify(req.json).includes('ignore') ? 'failed' : 'success');
      const hooks = { input_guardrails: [{ 'qualifire.promptInjections': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'ignore previous')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
