// bedrock.guard against a loopback fake of Bedrock's ApplyGuardrail API (path, SigV4 headers, body;
// its documented answers), then end to end through the gateway with a Portkey-style config.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, newKernel, portkeyChat, silent, use } from '@waygate/core/testing';
import { CHECKS } from '@waygate/guardrails';
import { signV4 } from '@waygate/provider-bedrock';
import { VendorFake, failure, refused, runCheck } from '@waygate/guardrail-vendor-kit/testing';
import type { FakeAnswer, Received } from '@waygate/guardrail-vendor-kit/testing';
import plugin, { guard } from '../src/index.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

/**
 * What the ApplyGuardrail reference (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ApplyGuardrail.html)
 * says a request is: POST /guardrail/{guardrailIdentifier}/version/{guardrailVersion}/apply, the
 * identifier an id `[a-z0-9]+` or a guardrail ARN, the version `DRAFT` or `[1-9][0-9]{0,7}`; JSON
 * `{source: INPUT | OUTPUT, content: [GuardrailContentBlock], outputScope?: INTERVENTIONS | FULL}`
 * (a text block is `{text: {text, qualifiers?}}`); SigV4-signed. Anything else: AWS's 400
 * ValidationException (`x-amzn-ErrorType`, `{"message"}`), or 403 unsigned.
 */
function applyGuardrailViolation(req: Received): FakeAnswer | undefined {
  const error = (status: number, type: string, message: string): FakeAnswer => ({ status, headers: { 'x-amzn-errortype': type }, json: { message } });
  const m = /^\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/.exec(req.url);
  if (req.method !== 'POST' || !m) return error(404, 'UnknownOperationException', `${req.method} ${req.url}`);
  const id = decodeURIComponent(m[1]!);
  if (!/^([a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail\/[a-z0-9]+)$/.test(id))
    return error(400, 'ValidationException', 'guardrailIdentifier');
  if (!/^([1-9][0-9]{0,7}|DRAFT)$/.test(m[2]!)) return error(400, 'ValidationException', 'guardrailVersion');
  if (!String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256 Credential=') || !req.headers['x-amz-date'])
    return error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const b = req.json as Record<string, unknown> | undefined;
  if (!b || !['INPUT', 'OUTPUT'].includes(b.source as string)) return error(400, 'ValidationException', 'source');
  if (!Array.isArray(b.content) || b.content.length === 0) return error(400, 'ValidationException', 'content');
  for (const block of b.content as Array<Record<string, { text?: unknown }>>)
    if (!(block.text && typeof block.text.text === 'string') && !block.image) return error(400, 'ValidationException', 'content block');
  if (b.outputScope !== undefined && !['INTERVENTIONS', 'FULL'].includes(b.outputScope as string)) return error(400, 'ValidationException', 'outputScope');
  const unknown = Object.keys(b).filter((k) => !['source', 'content', 'outputScope'].includes(k));
  return unknown.length ? error(400, 'ValidationException', `unknown fields ${unknown.join(', ')}`) : undefined;
}
const documented =
  (answer: (req: Received) => FakeAnswer) =>
  (req: Received): FakeAnswer =>
    applyGuardrailViolation(req) ?? answer(req);

describe('@waygate/guardrail-bedrock', () => {
  let aws: VendorFake;
  const creds = () => ({
    awsAccessKeyId: 'AKIDEXAMPLE',
    awsSecretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
    awsSessionToken: 'tok',
    awsRegion: 'eu-west-1',
    baseURL: aws.url,
  });
  const check = guard({ now: () => NOW });
  const params = (extra: Record<string, unknown> = {}) => ({ guardrailId: 'gr7abc123', guardrailVersion: '2', credentials: creds(), ...extra });
  const none = { action: 'NONE', outputs: [], assessments: [{}], usage: { contentPolicyUnits: 1 } };
  before(async () => (aws = await VendorFake.start()));
  after(() => aws.close());
  beforeEach(() => aws.reset());

  it('registers bedrock.guard', async () => {
    const k = newKernel();
    await use(k, plugin);
    expect(k.registry(CHECKS).names()).to.deep.equal(['bedrock.guard']);
  });

  it('POSTs the text as INPUT to the guardrail version, signed with SigV4 for bedrock in the region', async () => {
    aws.answer = documented(() => ({ json: none }));
    const r = await runCheck(check, params(), { text: 'hello there', headers: { authorization: 'Bearer caller' } });
    expect(r.verdict).to.equal(true);
    const got = aws.last;
    expect(got.url).to.equal('/guardrail/gr7abc123/version/2/apply');
    expect(got.json).to.deep.equal({ source: 'INPUT', content: [{ text: { text: 'hello there' } }] });
    expect(got.headers['x-amz-date']).to.equal('20260102T030405Z');
    expect(got.headers['x-amz-security-token']).to.equal('tok');
    expect(got.headers.authorization).to.match(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/,
    );
    // The signature covers exactly what arrived.
    const expected = signV4({
      method: 'POST',
      url: `${aws.url}${got.url}`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: got.text,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'tok' },
      region: 'eu-west-1',
      service: 'bedrock',
      date: NOW,
    });
    expect(got.headers.authorization).to.equal(expected.headers.authorization);
  });

  it('takes a guardrail ARN (URL-encoded in the path); the fake refuses what the reference does not allow', async () => {
    aws.answer = documented(() => ({ json: none }));
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:guardrail/abc123';
    expect((await runCheck(check, params({ guardrailId: arn, guardrailVersion: 'DRAFT' }), { text: 'hi' })).verdict).to.equal(true);
    expect(aws.last.url).to.equal(`/guardrail/${encodeURIComponent(arn)}/version/DRAFT/apply`);
    const ok = { ...aws.last };
    expect(applyGuardrailViolation(ok)).to.equal(undefined);
    expect(applyGuardrailViolation({ ...ok, json: { source: 'PROMPT', content: [{ text: { text: 'x' } }] } })?.status).to.equal(400);
    expect(applyGuardrailViolation({ ...ok, json: { source: 'INPUT', content: [{ text: 'x' }] } })?.status).to.equal(400);
    expect(applyGuardrailViolation({ ...ok, headers: {} })?.status).to.equal(403);
  });

  it('sends the answer as OUTPUT after the call', async () => {
    aws.answer = documented(() => ({ json: none }));
    await runCheck(check, params(), { response: { text: 'an answer' } });
    expect(aws.last.json).to.deep.equal({ source: 'OUTPUT', content: [{ text: { text: 'an answer' } }] });
  });

  it('fails when the guardrail intervenes, naming policies, not matches', async () => {
    aws.answer = documented(() => ({
      json: {
        action: 'GUARDRAIL_INTERVENED',
        outputs: [{ text: 'Sorry, blocked.' }],
        assessments: [
          {
            contentPolicy: { filters: [{ type: 'VIOLENCE', confidence: 'HIGH', action: 'BLOCKED' }] },
            wordPolicy: { customWords: [{ match: 'zorblax', action: 'BLOCKED' }] },
          },
        ],
      },
    }));
    const r = await runCheck(check, params(), { text: 'zorblax violence' });
    expect(r.verdict).to.equal(false);
    expect(r.data).to.deep.include({ action: 'GUARDRAIL_INTERVENED', policies: ['contentPolicy', 'wordPolicy'] });
    expect(JSON.stringify(r.data)).to.not.include('zorblax');
  });

  it("with redact, PII alone passes with the text masked: the guardrail's output when it anonymized, else {TYPE} for each match", async () => {
    aws.answer = documented(() => ({
      json: {
        action: 'GUARDRAIL_INTERVENED',
        outputs: [{ text: 'mail {EMAIL}' }],
        assessments: [{ sensitiveInformationPolicy: { piiEntities: [{ match: 'a@b.example', type: 'EMAIL', action: 'ANONYMIZED' }] } }],
      },
    }));
    expect(await runCheck(check, params({ redact: true }), { text: 'mail a@b.example' })).to.deep.include({
      verdict: true,
      transformedText: 'mail {EMAIL}',
    });
    expect((await runCheck(check, params(), { text: 'mail a@b.example' })).verdict).to.equal(false);
    aws.answer = documented(() => ({
      json: {
        action: 'GUARDRAIL_INTERVENED',
        outputs: [{ text: 'blocked' }],
        assessments: [
          {
            sensitiveInformationPolicy: {
              piiEntities: [{ match: '555-0100', type: 'PHONE', action: 'BLOCKED' }],
              regexes: [{ name: 'ticket', match: 'T-42', regex: 'T-\\d+', action: 'BLOCKED' }],
            },
          },
        ],
      },
    }));
    expect(await runCheck(check, params({ redact: true }), { text: 'call 555-0100 re T-42' })).to.deep.include({
      verdict: true,
      transformedText: 'call {PHONE} re {ticket}',
    });
  });

  it('with redact, PII with another policy still fails', async () => {
    aws.answer = documented(() => ({
      json: {
        action: 'GUARDRAIL_INTERVENED',
        assessments: [
          {
            sensitiveInformationPolicy: { piiEntities: [{ match: 'x', type: 'NAME', action: 'ANONYMIZED' }] },
            topicPolicy: { topics: [{ name: 'finance', type: 'DENY', action: 'BLOCKED' }] },
          },
        ],
      },
    }));
    expect((await runCheck(check, params({ redact: true }), { text: 'x' })).verdict).to.equal(false);
  });

  it('a 403, a 5xx, a timeout or an answer without action throws (fails closed)', async () => {
    aws.answer = () => ({ status: 403, json: { message: 'The security token included in the request is invalid.' } });
    expect(await failure(runCheck(check, params(), { text: 'x' }))).to.include('answered 403: The security token');
    aws.answer = () => ({
      status: 400,
      headers: { 'x-amzn-errortype': 'ValidationException' },
      json: { message: 'The guardrail identifier is invalid.' },
    });
    expect(await failure(runCheck(check, params()))).to.include('answered 400: The guardrail identifier is invalid.');
    aws.answer = () => ({ status: 503, json: {} });
    expect(await failure(runCheck(check, params(), { text: 'x' }))).to.include('answered 503');
    aws.answer = () => ({ hang: true });
    expect(await failure(runCheck(check, params({ timeout: 50 }), { text: 'x' }))).to.include('within 50 ms');
    aws.answer = () => ({ json: { assessments: [] } });
    expect(await failure(runCheck(check, params(), { text: 'x' }))).to.include('without an action');
  });

  it("accepts the manifest's credential names too, and refuses bad parameters by name", () => {
    const p = check.params.parse({
      guardrailId: 'g',
      guardrailVersion: 'DRAFT',
      credentials: { accessKeyId: 'a', accessKeySecret: 's', region: 'us-east-1' },
    });
    expect(p.credentials).to.include({ accessKeyId: 'a', secretAccessKey: 's', region: 'us-east-1' });
    expect(refused(check, { guardrailVersion: '1', credentials: creds() })).to.include('guardrailId');
    expect(refused(check, { guardrailId: 'gr-abc', guardrailVersion: '1', credentials: creds() })).to.include('guardrailId');
    expect(refused(check, { guardrailId: '../../x', guardrailVersion: '1', credentials: creds() })).to.include('guardrailId');
    expect(refused(check, { guardrailId: 'g', guardrailVersion: 'latest', credentials: creds() })).to.include('guardrailVersion');
    expect(refused(check, { guardrailId: 'g', guardrailVersion: '1', credentials: { awsAccessKeyId: 'a', awsRegion: 'us-east-1' } })).to.include(
      'credentials.awsSecretAccessKey',
    );
    expect(refused(check, { guardrailId: 'g', guardrailVersion: '1', credentials: { ...creds(), awsRegion: 'mars' } })).to.include(
      'credentials.awsRegion',
    );
    expect(refused(check, { guardrailId: 'g', guardrailVersion: '1' })).to.include('credentials: AWS credentials are required');
  });

  describe('in a running gateway', () => {
    let up: OpenAIFake;
    let gw: Gateway;
    before(async () => {
      up = await OpenAIFake.start();
      gw = await startGateway({
        config: {
          defaultPlugins: false,
          plugins: ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-single', '@waygate/guardrails', THIS_PACKAGE],
        },
        port: 0,
        host: '127.0.0.1',
        logger: silent,
      });
    });
    after(async () => {
      await gw?.close(0);
      await up?.close();
    });

    it('input_guardrails with bedrock.guard: 446 when it intervenes (nothing upstream), 200 when not', async () => {
      aws.answer = documented((req) => ({
        json: JSON.stringify(req.json).includes('forbidden')
          ? { action: 'GUARDRAIL_INTERVENED', assessments: [{ topicPolicy: { topics: [{ name: 't', type: 'DENY', action: 'BLOCKED' }] } }] }
          : none,
      }));
      const config = up.leaf({ input_guardrails: [{ 'bedrock.guard': params(), deny: true }] });
      const ok = await portkeyChat(gw.url, config, { model: 'm', messages: [{ role: 'user', content: 'fine' }] });
      expect(ok.status).to.equal(200);
      const before = up.bodies.length;
      const denied = await portkeyChat(gw.url, config, { model: 'm', messages: [{ role: 'user', content: 'forbidden topic' }] });
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.deep.include({ id: 'bedrock.guard', verdict: false });
      expect(up.bodies.length).to.equal(before);
      expect(JSON.stringify(denied.json)).to.not.include('wJalrXUtnFEMI');
    });
  });
});
