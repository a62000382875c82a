// presidio.analyze and presidio.redact against loopback fakes of Presidio's analyzer and anonymizer, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import type { Received } from '@waygate/guardrail-vendor-kit/testing';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { analyzeCheck, redactCheck } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * What Presidio's reference documents (microsoft.github.io/presidio/api-docs/api-docs.html, the
 * analyzer's and anonymizer's app.py): POST /analyze `{text, language, entities?, score_threshold?,
 * correlation_id?, return_decision_process?, ad_hoc_recognizers?, context?, allow_list?,
 * allow_list_match?, regex_flags?}`; POST /anonymize `{text, analyzer_results: [{start, end, score,
 * entity_type}], anonymizers?: {ENTITY | DEFAULT: {type, ...}}}`. Missing text or language: the
 * services' `{"error": "..."}` (500 from the analyzer, 400 from the anonymizer).
 */
function presidioViolation(req: Received): string | undefined {
  if (req.method !== 'POST') return `method ${req.method}`;
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'not application/json';
  const b = req.json as Record<string, unknown> | undefined;
  if (!b || typeof b.text !== 'string' || !b.text) return 'No text provided';
  if (req.url === '/analyze') {
    if (typeof b.language !== 'string') return 'No language provided';
    const known = [
      'text',
      'language',
      'entities',
      'score_threshold',
      'correlation_id',
      'return_decision_process',
      'ad_hoc_recognizers',
      'context',
      'allow_list',
      'allow_list_match',
      'regex_flags',
    ];
    const unknown = Object.keys(b).filter((k) => !known.includes(k));
    if (unknown.length) return `unexpected keyword argument ${unknown.join(', ')}`;
    if (b.entities !== undefined && !(Array.isArray(b.entities) && b.entities.every((e) => typeof e === 'string'))) return 'entities';
    return undefined;
  }
  if (req.url !== '/anonymize') return `path ${req.url}`;
  if (!Array.isArray(b.analyzer_results)) return 'Invalid input, analyzer_results must be a list';
  for (const r of b.analyzer_results as Array<Record<string, unknown>>)
    if (typeof r.entity_type !== 'string' || !Number.isInteger(r.start) || !Number.isInteger(r.end) || typeof r.score !== 'number')
      return 'Invalid input, analyzer result';
  if (b.anonymizers !== undefined)
    for (const op of Object.values(b.anonymizers as Record<string, { type?: unknown }>))
      if (!['replace', 'redact', 'mask', 'hash', 'encrypt', 'keep'].includes(op.type as string)) return `Invalid operator ${String(op.type)}`;
  const unknown = Object.keys(b).filter((k) => !['text', 'analyzer_results', 'anonymizers'].includes(k));
  return unknown.length ? `unexpected fields ${unknown.join(', ')}` : undefined;
}

/** Finds e-mail addresses, as the analyzer would, and replaces them as the anonymizer's default does (`<ENTITY_TYPE>`), with its `items`. */
function presidio(req: Received) {
  const wrong = presidioViolation(req);
  if (wrong) return { status: req.url === '/analyze' ? 500 : 400, json: { error: wrong } };
  const body = req.json as { text: string; analyzer_results?: Array<{ entity_type: string; start: number; end: number }> };
  if (req.url === '/analyze') {
    const out = [];
    for (const m of body.text.matchAll(/\S+@\S+/g))
      out.push({
        entity_type: 'EMAIL_ADDRESS',
        start: m.index,
        end: m.index + m[0].length,
        score: 1,
        analysis_explanation: null,
        recognition_metadata: { recognizer_name: 'EmailRecognizer' },
      });
    return { json: out };
  }
  let text = body.text;
  const items = [];
  for (const r of [...(body.analyzer_results ?? [])].sort((a, b) => b.start - a.start)) {
    text = `${text.slice(0, r.start)}<${r.entity_type}>${text.slice(r.end)}`;
    items.push({ operator: 'replace', entity_type: r.entity_type, start: r.start, end: r.start + r.entity_type.length + 2, text: `<${r.entity_type}>` });
  }
  return { json: { text, items } };
}

describe('@waygate/guardrail-presidio', () => {
  let an: VendorFake;
  let ano: VendorFake;
  const creds = () => ({ analyzerURL: an.url, anonymizerURL: ano.url });
  before(async () => {
    an = await VendorFake.start();
    ano = await VendorFake.start();
  });
  after(async () => {
    await an.close();
    await ano.close();
  });
  beforeEach(() => {
    an.reset();
    ano.reset();
    an.answer = presidio;
    ano.answer = presidio;
  });

  it('registers presidio.analyze and presidio.redact', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.have.members(['presidio.analyze', 'presidio.redact']);
  });

  it('analyze: POST /analyze with text, language, entities and score_threshold; fails when found, passes when not', async () => {
    const check = analyzeCheck();
    const r = await runCheck(
      check,
      { credentials: creds(), entities: ['EMAIL_ADDRESS'], score_threshold: 0.4 },
      { text: 'mail a@b.co', headers: { authorization: 'Bearer caller-secret' } },
    );
    expect(an.last.url).to.equal('/analyze');
    expect(an.last.json).to.deep.equal({ text: 'mail a@b.co', language: 'en', entities: ['EMAIL_ADDRESS'], score_threshold: 0.4 });
    expect(an.last.headers).to.not.have.property('authorization');
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ entities: { EMAIL_ADDRESS: 1 } });
    expect((await runCheck(check, { credentials: creds() }, { text: 'hello' })).verdict).to.equal(true);
  });

  it('redact: the anonymizer gets the analyzer results and its text replaces the original', async () => {
    const check = redactCheck();
    const anonymizers = { DEFAULT: { type: 'replace' as const } };
    const r = await runCheck(check, { credentials: { ...creds(), apiKey: 'proxy-key' }, anonymizers }, { response: { text: 'write to a@b.co today' } });
    expect(r.verdict).to.equal(true);
    expect(r.transformedText).to.equal('write to <EMAIL_ADDRESS> today');
    expect(ano.last.url).to.equal('/anonymize');
    expect(ano.last.headers.authorization).to.equal('Bearer proxy-key');
    expect(ano.last.json).to.deep.equal({
      text: 'write to a@b.co today',
      analyzer_results: [{ entity_type: 'EMAIL_ADDRESS', start: 9, end: 15, score: 1 }],
      anonymizers,
    });
    ano.reset();
    const clean = await runCheck(check, { credentials: creds() }, { text: 'nothing here' });
    expect(clean.verdict).to.equal(true);
    expect(clean.transformedText).to.equal(undefined);
    expect(ano.received).to.have.length(0);
  });

  it('redact without anonymizerURL uses the analyzer URL for both', async () => {
    const r = await runCheck(redactCheck(), { credentials: { analyzerURL: an.url } }, { text: 'x a@b.co' });
    expect(r.transformedText).to.equal('x <EMAIL_ADDRESS>');
    expect(an.received.map((x) => x.url)).to.deep.equal(['/analyze', '/anonymize']);
  });

  it("the fake answers Presidio's errors to an undocumented request", () => {
    const ok = { method: 'POST', url: '/analyze', headers: { 'content-type': 'application/json' }, text: '' };
    expect(presidioViolation({ ...ok, json: { text: 'x', language: 'en' } })).to.equal(undefined);
    expect(presidioViolation({ ...ok, json: { text: 'x' } })).to.equal('No language provided');
    expect(presidioViolation({ ...ok, json: { text: 'x', language: 'en', threshold: 1 } })).to.include('threshold');
    expect(presidioViolation({ ...ok, url: '/anonymize', json: { text: 'x', analyzer_results: [{ entity_type: 'X', start: 0, end: 1 }] } })).to.include(
      'analyzer result',
    );
  });

  it('a 5xx, an unreachable service or a malformed answer throws', async () => {
    an.answer = () => ({ status: 500, json: { error: 'model not loaded' } });
    expect(await failure(runCheck(analyzeCheck(), { credentials: creds() }))).to.include('answered 500: model not loaded');
    expect(await failure(runCheck(analyzeCheck(), { credentials: { analyzerURL: 'http://127.0.0.1:1' } }))).to.include('could not be reached');
    an.answer = () => ({ json: { results: [] } });
    expect(await failure(runCheck(analyzeCheck(), { credentials: creds() }))).to.include('not a list');
    an.answer = () => ({ json: [{ entity_type: 'X', start: 0, end: 99, score: 1 }] });
    expect(await failure(runCheck(analyzeCheck(), { credentials: creds() }, { text: 'short' }))).to.include('valid entity_type');
    an.answer = presidio;
    ano.answer = () => ({ json: { items: [] } });
    expect(await failure(runCheck(redactCheck(), { credentials: creds() }, { text: 'a@b.co' }))).to.include('without a text');
    ano.answer = () => ({ status: 502, json: {} });
    expect(await failure(runCheck(redactCheck(), { credentials: creds() }, { text: 'a@b.co' }))).to.include('anonymizer');
  });

  it('refuses bad parameters by name; the base URL is required', () => {
    expect(refused(analyzeCheck(), {})).to.include('credentials: Presidio endpoints are required');
    expect(refused(analyzeCheck(), { credentials: {} })).to.include('credentials.analyzerURL');
    expect(refused(analyzeCheck(), { credentials: creds(), entities: ['email'] })).to.include('entities.0');
    expect(refused(analyzeCheck(), { credentials: creds(), score_threshold: 3 })).to.include('score_threshold');
    expect(refused(redactCheck(), { credentials: creds(), anonymizers: { DEFAULT: { type: 'encrypt' } } })).to.include('anonymizers.DEFAULT.type');
    expect(refused(analyzeCheck(), { credentials: creds(), anonymizers: {} })).to.include('anonymizers');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(async () => (g = await guardedGateway([THIS_PACKAGE])));
    after(() => g.close());

    it('input_guardrails with presidio.analyze: 446 when an entity is found, 200 when not', async () => {
      const hooks = { input_guardrails: [{ 'presidio.analyze': { credentials: creds() }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      expect((await g.ask(hooks, 'mail me at a@b.co')).status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
