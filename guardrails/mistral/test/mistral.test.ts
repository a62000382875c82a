// mistral.moderateContent against a loopback fake of Mistral's moderation API, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import type { FakeAnswer, Received } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { moderateContent } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** The categories each model reports (docs.mistral.ai: the 2411 model's nine; 2603 splits dangerous/criminal and adds jailbreaking). */
const CATEGORIES_2411 = [
  'sexual',
  'hate_and_discrimination',
  'violence_and_threats',
  'dangerous_and_criminal_content',
  'selfharm',
  'health',
  'financial',
  'law',
  'pii',
];
const CATEGORIES_2603 = [
  'sexual',
  'hate_and_discrimination',
  'violence_and_threats',
  'dangerous',
  'criminal',
  'selfharm',
  'health',
  'financial',
  'law',
  'pii',
  'jailbreaking',
];

/**
 * What Mistral's reference (docs.mistral.ai, Moderation API) says a request is: POST /v1/moderations
 * `{model, input: string | string[]}` or POST /v1/chat/moderations `{model, input: messages | messages[]}`
 * (roles system, user, assistant, tool; string content), `Authorization: Bearer <key>`, `model`
 * required. Anything else gets Mistral's 401 or 422.
 */
function mistralViolation(req: Received): FakeAnswer | undefined {
  const invalid = (msg: string): FakeAnswer => ({ status: 422, json: { object: 'error', message: { detail: [{ msg }] }, type: 'invalid_request_error' } });
  if (req.method !== 'POST' || !['/v1/moderations', '/v1/chat/moderations'].includes(req.url)) return { status: 404, json: { detail: 'Not Found' } };
  if (!/^Bearer \S+$/.test(String(req.headers.authorization))) return { status: 401, json: { message: 'Unauthorized', request_id: 'r1' } };
  const b = req.json as Record<string, unknown> | undefined;
  if (!b || typeof b.model !== 'string') return invalid('model: Field required');
  const unknown = Object.keys(b).filter((k) => k !== 'model' && k !== 'input');
  if (unknown.length) return invalid(`Extra inputs are not permitted: ${unknown.join(', ')}`);
  const isMessage = (m: unknown) => {
    const r = m as Record<string, unknown>;
    return !!r && ['system', 'user', 'assistant', 'tool'].includes(r.role as string) && typeof r.content === 'string';
  };
  if (req.url === '/v1/moderations') {
    const ok = typeof b.input === 'string' || (Array.isArray(b.input) && b.input.every((t) => typeof t === 'string'));
    return ok ? undefined : invalid('input: a string or a list of strings');
  }
  const input = b.input as unknown[];
  const ok =
    Array.isArray(input) && input.length > 0 && (input.every(isMessage) || input.every((c) => Array.isArray(c) && c.length > 0 && c.every(isMessage)));
  return ok ? undefined : invalid('input: a list of messages or of conversations');
}

describe('@waygate/guardrail-mistral', () => {
  let mi: VendorFake;
  const creds = () => ({ apiKey: 'mistral-key', baseURL: mi.url });
  const check = moderateContent();
  /** Mistral's answer for the model asked: every category of that model, flagged as `categories` say. */
  const result =
    (categories: Record<string, boolean> | ((req: Received) => Record<string, boolean>)) =>
    (req: Received): FakeAnswer => {
      const wrong = mistralViolation(req);
      if (wrong) return wrong;
      const model = (req.json as { model: string }).model;
      const names = model === 'mistral-moderation-2603' ? CATEGORIES_2603 : CATEGORIES_2411;
      const flagged = typeof categories === 'function' ? categories(req) : categories;
      return {
        json: {
          id: 'm1',
          model: model === 'mistral-moderation-latest' ? 'mistral-moderation-2411' : model,
          results: [
            {
              categories: Object.fromEntries(names.map((c) => [c, flagged[c] === true])),
              category_scores: Object.fromEntries(names.map((c) => [c, flagged[c] ? 0.93 : 0.002])),
            },
          ],
        },
      };
    };
  before(async () => (mi = await VendorFake.start()));
  after(() => mi.close());
  beforeEach(() => mi.reset());

  it('registers mistral.moderateContent', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['mistral.moderateContent']);
  });

  it('before a chat call, sends the conversation to /v1/chat/moderations', async () => {
    mi.answer = result({});
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
    mi.answer = result({ pii: true });
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

  it("takes mistral-moderation-2603's categories; a category the model does not report throws instead of passing", async () => {
    mi.answer = result({ jailbreaking: true });
    const r = await runCheck(
      check,
      { credentials: creds(), categories: ['jailbreaking', 'criminal'], model: 'mistral-moderation-2603' },
      { response: { text: 'x' } },
    );
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ flagged_categories: ['jailbreaking'] });
    expect(await failure(runCheck(check, { credentials: creds(), categories: ['jailbreaking'] }, { response: { text: 'x' } }))).to.include(
      'does not report jailbreaking',
    );
  });

  it("the fake answers Mistral's errors to an undocumented request", () => {
    const ok = { method: 'POST', url: '/v1/chat/moderations', headers: { authorization: 'Bearer k' }, text: '' };
    expect(mistralViolation({ ...ok, json: { model: 'm', input: [[{ role: 'user', content: 'hi' }]] } })).to.equal(undefined);
    expect(mistralViolation({ ...ok, json: { model: 'm', input: [[{ role: 'developer', content: 'hi' }]] } })?.status).to.equal(422);
    expect(mistralViolation({ ...ok, json: { input: ['hi'] } })?.status).to.equal(422);
    expect(mistralViolation({ ...ok, headers: {}, json: { model: 'm', input: ['hi'] } })?.status).to.equal(401);
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
      mi.answer = result((req) => ({ selfharm: JSON.stringify(req.json).includes('hurt myself') }));
      const hooks = { input_guardrails: [{ 'mistral.moderateContent': { credentials: creds(), categories: ['selfharm'] }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      const denied = await g.ask(hooks, 'I want to hurt myself');
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.deep.include({ id: 'mistral.moderateContent', verdict: false });
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
