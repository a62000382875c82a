// aporia.validateProject against a loopback fake of Aporia's /{projectID}/validate, then end to end.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { newKernel, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { VendorFake, failure, guardedGateway, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import type { FakeAnswer, Received } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { validateProject } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

/**
 * What Aporia's REST API reference (gr-docs.aporia.com/fundamentals/integration/rest-api) says a
 * request is: POST /<PROJECT_ID>/validate with X-APORIA-API-KEY; `messages` of {role, content} with
 * role system|user|assistant|other; `validation_target` prompt|response|both; `response` (a string)
 * when the target includes the response; `explain` a boolean. The fake refuses anything else (400),
 * so a check that sends another shape fails its test.
 */
function aporiaViolation(req: Received): string | undefined {
  if (req.method !== 'POST') return `method ${req.method}`;
  if (!/^\/[^/]+\/validate$/.test(req.url)) return `path ${req.url}`;
  if (typeof req.headers['x-aporia-api-key'] !== 'string' || !req.headers['x-aporia-api-key']) return 'no X-APORIA-API-KEY';
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'not application/json';
  const b = req.json as Record<string, unknown> | undefined;
  if (!b || !Array.isArray(b.messages)) return 'messages is required';
  for (const m of b.messages as Array<Record<string, unknown>>) {
    if (!['system', 'user', 'assistant', 'other'].includes(m.role as string)) return `role ${String(m.role)}`;
    if (typeof m.content !== 'string') return 'content is not a string';
  }
  if (!['prompt', 'response', 'both'].includes(b.validation_target as string)) return 'validation_target';
  if (b.validation_target !== 'prompt' && typeof b.response !== 'string') return 'response is required for this validation_target';
  if (b.explain !== undefined && typeof b.explain !== 'boolean') return 'explain is not a boolean';
  const known = ['messages', 'validation_target', 'response', 'explain', 'session_id', 'user'];
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  return unknown.length ? `unknown fields ${unknown.join(', ')}` : undefined;
}

/** An answer as the reference documents it: `action` and `revised_response` (both required), `explain_log`. */
const verdict = (action: 'passthrough' | 'block' | 'modify' | 'rephrase', explain_log: unknown[] = []): FakeAnswer => ({
  json: { action, revised_response: action === 'passthrough' ? 'the response' : 'I cannot help with that.', explain_log },
});

/** The fake's answer: the reference's refusal of an undocumented request, else `answer`'s. */
const documented =
  (answer: (req: Received) => FakeAnswer) =>
  (req: Received): FakeAnswer => {
    const v = aporiaViolation(req);
    return v ? { status: 400, json: { message: `undocumented request: ${v}` } } : answer(req);
  };

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
    ap.answer = documented(() => verdict('passthrough'));
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
    ap.answer = documented(() => verdict('block', [{ policy_id: '001', target: 'response', result: 'issue_detected', details: {} }]));
    const r = await runCheck(check, { credentials: creds(), projectID: 'p' }, { text: 'q', response: { text: 'bad answer' } });
    expect(ap.last.json).to.deep.include({ validation_target: 'response', response: 'bad answer' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ action: 'block' });
    ap.answer = documented(() => verdict('rephrase'));
    expect((await runCheck(check, { credentials: creds(), projectID: 'p' }, { text: 'q', response: { text: 'x' } })).verdict).to.equal(false);
  });

  it("sends the roles Aporia does not know (developer, tool) as 'other'", async () => {
    ap.answer = documented(() => verdict('passthrough'));
    const json = {
      model: 'm',
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'calling' },
        { role: 'tool', content: '42' },
      ],
    };
    const r = await runCheck(check, { credentials: creds(), projectID: 'p' }, { text: 'hi', json });
    expect(r.verdict).to.equal(true);
    expect((ap.last.json as { messages: { role: string }[] }).messages.map((m) => m.role)).to.deep.equal(['other', 'user', 'assistant', 'other']);
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

  it("the fake refuses what Aporia's reference does not document", () => {
    const ok = { method: 'POST', url: '/p/validate', headers: { 'x-aporia-api-key': 'k', 'content-type': 'application/json' }, text: '' };
    const body = { messages: [{ role: 'user', content: 'hi' }], validation_target: 'prompt', explain: true };
    expect(aporiaViolation({ ...ok, json: body })).to.equal(undefined);
    expect(aporiaViolation({ ...ok, json: { ...body, messages: [{ role: 'tool', content: 'x' }] } })).to.include('role tool');
    expect(aporiaViolation({ ...ok, json: { ...body, validation_target: 'response' } })).to.include('response is required');
    expect(aporiaViolation({ ...ok, headers: { 'content-type': 'application/json' }, json: body })).to.include('X-APORIA-API-KEY');
    expect(aporiaViolation({ ...ok, url: '/p/validate/', json: body })).to.include('path');
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
      ap.answer = documented((req) => verdict(JSON.stringify(req.json).includes('forbidden') ? 'block' : 'passthrough'));
      const hooks = { input_guardrails: [{ 'aporia.validateProject': { credentials: creds(), projectID: 'p' }, deny: true }] };
      expect((await g.ask(hooks, 'hello')).status).to.equal(200);
      const denied = await g.ask(hooks, 'something forbidden');
      expect(denied.status).to.equal(446);
      expect(g.up.bodies).to.have.length(1);
    });
  });
});
