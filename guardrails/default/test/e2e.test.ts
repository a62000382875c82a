// End to end: the real gateway with the OpenAI provider, the guardrails runner (@waygate/guardrails)
// and this package loaded by path, in front of loopback fakes, with Portkey-style configs.
import { expect } from 'chai';
import { generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, portkeyChat as chat } from '@waygate/core/testing';
import { TestServer, json } from './helpers.js';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-default end to end', function () {
  this.timeout(15_000);
  let up: OpenAIFake;
  let side: TestServer;
  let gw: Gateway;

  before(async () => {
    up = await OpenAIFake.start();
    side = await TestServer.start();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: ['@waygate/openai-api', '@waygate/provider-openai', '@waygate/strategy-single', '@waygate/guardrails', THIS_PACKAGE],
      },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
    await side?.close();
  });
  beforeEach(() => {
    up.bodies.length = 0;
    up.reply = 'Hello there, friend';
    side.received.length = 0;
  });

  const body = (content: string, extra: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content },
    ],
    ...extra,
  });

  it('default.regexMatch with not and deny: 446 and no upstream call', async () => {
    const res = await chat(
      gw.url,
      up.leaf({ input_guardrails: [{ 'default.regexMatch': { rule: 'password\\s*[:=]', not: true }, deny: true }] }),
      body('password: hunter2'),
    );
    expect(res.status).to.equal(446);
    expect(up.bodies).to.have.length(0);
    expect(res.json.hook_results.before_request_hooks[0].checks[0]).to.include({ id: 'default.regexMatch', verdict: false });
  });

  it('a bad parameter is a 400 that names the path', async () => {
    const res = await chat(gw.url, up.leaf({ input_guardrails: [{ 'default.regexMatch': { rule: '(' }, deny: true }] }), body('x'));
    expect(res.status).to.equal(400);
    expect(res.json.error.message).to.match(/input_guardrails\[0\].*rule: rule is not a valid regular expression/);
  });

  it('default.addPrefix changes what the upstream receives', async () => {
    const res = await chat(
      gw.url,
      up.leaf({ input_mutators: [{ 'default.addPrefix': { prefix: 'Answer in French. ', applyToRole: 'system' } }] }),
      body('hi'),
    );
    expect(res.status).to.equal(200);
    expect(up.bodies[0].messages[0]).to.deep.equal({ role: 'system', content: 'Answer in French. Be brief.' });
  });

  it('default.promptSize denies an oversize conversation before it costs anything, even when the last message is short', async () => {
    const long = {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'lorem ipsum '.repeat(400) },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'and?' },
      ],
    };
    const config = up.leaf({ input_guardrails: [{ 'default.promptSize': { maxTokens: 500 }, deny: true }] });
    const res = await chat(gw.url, config, long);
    expect(res.status).to.equal(446);
    expect(up.bodies).to.have.length(0);
    expect((await chat(gw.url, config, body('short'))).status).to.equal(200);
  });

  it('default.webhook: its rewrite reaches the upstream, and the client headers never reach the webhook', async () => {
    side.handler = (req, res) => {
      const sent = JSON.parse(req.body);
      const rewritten = { ...sent.request.json, messages: [{ role: 'user', content: 'rewritten by the webhook' }] };
      json(res, 200, { verdict: true, transformedData: { request: { json: rewritten } } });
    };
    const config = up.leaf({
      before_request_hooks: [{ id: 'hook', type: 'mutator', checks: [{ id: 'default.webhook', parameters: { webhookURL: `${side.url}/check` } }] }],
    });
    const res = await chat(gw.url, config, body('original'), { authorization: 'Bearer sk-client-secret', 'x-custom': 'c' });
    expect(res.status).to.equal(200);
    expect(up.bodies[0].messages).to.deep.equal([{ role: 'user', content: 'rewritten by the webhook' }]);
    expect(side.received[0]!.headers).to.not.have.property('authorization');
    expect(side.received[0]!.headers).to.not.have.property('x-custom');
    expect(side.received[0]!.body).to.not.include('sk-client-secret');
  });

  it('default.jwt: a valid token passes, a missing one is denied', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    side.handler = (_req, res) => json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }] });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const signing = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ sub: 'u', iat: now, exp: now + 60 })}`;
    const token = `${signing}.${sign('sha256', Buffer.from(signing), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    const config = up.leaf({ input_guardrails: [{ 'default.jwt': { jwksUri: `${side.url}/jwks` }, deny: true }] });
    expect((await chat(gw.url, config, body('hi'), { authorization: `Bearer ${token}` })).status).to.equal(200);
    expect((await chat(gw.url, config, body('hi'))).status).to.equal(446);
  });

  it('a stream is stopped by default.contains (none) as soon as a forbidden word arrives', async () => {
    up.reply = 'one two three forbidden four five six seven eight nine ten';
    const config = up.leaf({ output_guardrails: [{ 'default.contains': { operator: 'none', words: ['forbidden'] }, deny: true }] });
    const res = await chat(gw.url, config, body('count', { stream: true }));
    expect(res.status).to.equal(200);
    const deltas = res.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {') && e.includes('"delta"'))
      .map((e) => JSON.parse(e.slice(6)).choices[0].delta.content ?? '')
      .join('');
    expect(deltas).to.not.include('forbidden');
    expect(deltas).to.not.include('four');
    expect(res.text).to.include('default.contains');
    expect(res.text).to.not.include('data: [DONE]');
  });

  it('an output check without deny reports with 246 and lets the answer through', async () => {
    const res = await chat(gw.url, up.leaf({ output_guardrails: [{ 'default.wordCount': { maxWords: 2 } }] }), body('hi'));
    expect(res.status).to.equal(246);
    expect(res.json.choices[0].message.content).to.equal('Hello there, friend');
    expect(res.json.hook_results.after_request_hooks[0].checks[0]).to.deep.include({ id: 'default.wordCount', verdict: false });
  });
});
