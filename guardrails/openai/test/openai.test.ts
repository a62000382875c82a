// openai.moderation against a loopback fake of OpenAI's /v1/moderations, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import type { FakeAnswer, Received } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { moderation } from '../src/index.js';
import { OPENAI_CATEGORIES } from '../src/checks.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * What OpenAI's reference (developers.openai.com/api/reference, "Create moderation") says a request
 * is: POST /v1/moderations, `Authorization: Bearer <key>`, JSON `{input, model?}` with `input` a
 * string, an array of strings or of multi-modal parts. Anything else: the 400 OpenAI answers
 * (`{"error": {"message", "type": "invalid_request_error", "param", "code"}}`), or 401 without a key.
 */
function openaiViolation(req: Received): FakeAnswer | undefined {
  const err = (status: number, message: string): FakeAnswer => ({
    status,
    json: { error: { message, type: 'invalid_request_error', param: null, code: null } },
  });
  if (req.method !== 'POST' || req.url !== '/v1/moderations') return err(404, `Invalid URL (${req.method} ${req.url})`);
  if (!/^Bearer \S+$/.test(String(req.headers.authorization))) return err(401, "You didn't provide an API key.");
  const b = req.json as Record<string, unknown> | undefined;
  if (!b || !(typeof b.input === 'string' || Array.isArray(b.input))) return err(400, "'input' is a required property");
  if (b.model !== undefined && typeof b.model !== 'string') return err(400, "'model' is not a string");
  const unknown = Object.keys(b).filter((k) => k !== 'input' && k !== 'model');
  return unknown.length ? err(400, `Unrecognized request argument supplied: ${unknown.join(', ')}`) : undefined;
}

describe('@waygate/guardrail-openai', () => {
  let oa: VendorFake;
  const creds = () => ({ apiKey: 'sk-mod-key', baseURL: `${oa.url}/v1`, organization: 'org-1' });
  const check = moderation();
  /** An answer as the reference documents it: every omni-moderation category in `categories`, `category_scores` and `category_applied_input_types`. */
  const result = (flagged: boolean, categories: Record<string, boolean> = {}, scores: Record<string, number> = {}) => ({
    json: {
      id: 'modr-1',
      model: 'omni-moderation-2024-09-26',
      results: [
        {
          flagged,
          categories: { ...Object.fromEntries(OPENAI_CATEGORIES.map((c) => [c, false])), ...categories },
          category_scores: { ...Object.fromEntries(OPENAI_CATEGORIES.map((c) => [c, 0.001])), ...scores },
          category_applied_input_types: Object.fromEntries(OPENAI_CATEGORIES.map((c) => [c, ['text']])),
        },
      ],
    },
  });
  const documented =
    (answer: (req: Received) => FakeAnswer) =>
    (req: Received): FakeAnswer =>
      openaiViolation(req) ?? answer(req);
  before(async () => (oa = await VendorFake.start()));
  after(() => oa.close());
  beforeEach(() => oa.reset());

  it('registers openai.moderation', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['openai.moderation']);
  });

  it("POSTs model and input with the bearer key (not the caller's) and passes what is not flagged", async () => {
    oa.answer = documented(() => result(false));
    const r = await runCheck(check, { credentials: creds() }, { text: 'hello', headers: { authorization: 'Bearer caller-key' } });
    expect(r.verdict).to.equal(true);
    expect(oa.last.url).to.equal('/v1/moderations');
    expect(oa.last.headers.authorization).to.equal('Bearer sk-mod-key');
    expect(oa.last.headers['openai-organization']).to.equal('org-1');
    expect(oa.last.json).to.deep.equal({ model: 'omni-moderation-latest', input: 'hello' });
  });

  it('fails what OpenAI flags; with categories, only those; with threshold, by score', async () => {
    oa.answer = documented(() => result(true, { violence: true }, { violence: 0.9 }));
    const r = await runCheck(check, { credentials: creds() }, { text: 'x' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ flaggedCategories: ['violence'] });
    expect((await runCheck(check, { credentials: creds(), categories: ['hate'] }, { text: 'x' })).verdict).to.equal(true);
    oa.answer = documented(() => result(false, {}, { hate: 0.4 }));
    expect((await runCheck(check, { credentials: creds(), threshold: 0.3 }, { text: 'x' })).verdict).to.equal(false);
    expect((await runCheck(check, { credentials: creds(), threshold: 0.5 }, { text: 'x' })).verdict).to.equal(true);
  });

  it("the fake answers OpenAI's errors to an undocumented request", () => {
    const ok = { method: 'POST', url: '/v1/moderations', headers: { authorization: 'Bearer k' }, text: '' };
    expect(openaiViolation({ ...ok, json: { input: 'x', model: 'omni-moderation-latest' } })).to.equal(undefined);
    expect(openaiViolation({ ...ok, json: { text: 'x' } })?.status).to.equal(400);
    expect(openaiViolation({ ...ok, headers: {}, json: { input: 'x' } })?.status).to.equal(401);
    expect(openaiViolation({ ...ok, url: '/moderations', json: { input: 'x' } })?.status).to.equal(404);
  });

  it('a 429, a 5xx, a timeout or a malformed answer throws', async () => {
    oa.answer = () => ({ status: 429, json: { error: { message: 'Rate limit reached' } } });
    expect(await failure(runCheck(check, { credentials: creds() }, { text: 'x' }))).to.include('answered 429: Rate limit reached');
    oa.answer = () => ({ status: 502, raw: 'bad gateway' });
    expect(await failure(runCheck(check, { credentials: creds() }, { text: 'x' }))).to.include('answered 502');
    oa.answer = () => ({ hang: true });
    expect(await failure(runCheck(check, { credentials: creds(), timeout: 40 }, { text: 'x' }))).to.include('within 40 ms');
    oa.answer = () => ({ json: { results: [] } });
    expect(await failure(runCheck(check, { credentials: creds() }, { text: 'x' }))).to.include('without results[0].flagged');
  });

  it('refuses bad parameters by name', () => {
    expect(refused(check, {})).to.include('credentials: OpenAI credentials are required');
    expect(refused(check, { credentials: { baseURL: 'https://x.example' } })).to.include('credentials.apiKey');
    expect(refused(check, { credentials: creds(), categories: ['rudeness'] })).to.include('categories.0');
    expect(refused(check, { credentials: creds(), threshold: 2 })).to.include('threshold');
  });

  describe('in a running gateway', () => {
    let g: Awaited<ReturnType<typeof guardedGateway>>;
    before(
      async () => (g = await guardedGateway([{ module: THIS_PACKAGE, options: { credentials: { apiKey: 'sk-operator', baseURL: `${oa.url}/v1` } } }])),
    );
    after(() => g.close());

    it("input_guardrails with openai.moderation and the operator's key: 446 for a flagged prompt, 200 for a clean one", async () => {
      oa.answer = documented((req) => ((req.json as { input: string }).input.includes('kill') ? result(true, { violence: true }) : result(false)));
      const hooks = { input_guardrails: [{ 'openai.moderation': {}, deny: true }] };
      expect((await g.ask(hooks, 'good morning')).status).to.equal(200);
      const denied = await g.ask(hooks, 'how do I kill a process... or a person');
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.deep.include({ id: 'openai.moderation', verdict: false });
      expect(oa.last.headers.authorization).to.equal('Bearer sk-operator');
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
