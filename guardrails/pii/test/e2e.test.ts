// End to end: the real gateway with the OpenAI provider, the guardrails runner (@waygate/guardrails)
// and this package loaded by path, in front of a loopback fake, with Portkey-style configs.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { OpenAIFake, portkeyChat as chat } from '@waygate/core/testing';

const THIS_PACKAGE = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('@waygate/guardrail-pii end to end', function () {
  this.timeout(15_000);
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
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => {
    up.bodies.length = 0;
    up.reply = 'Hello there, friend';
  });

  const conversation = (extra: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Escalate to lead@corp.example.' },
      { role: 'user', content: 'My card is 4111 1111 1111 1111' },
      { role: 'assistant', content: 'Thanks.' },
      { role: 'user', content: 'Call me on +44 20 7946 0958' },
    ],
    ...extra,
  });

  it('pii.redact before the call: the upstream receives every message masked', async () => {
    const res = await chat(gw.url, up.leaf({ input_mutators: [{ 'pii.redact': {} }] }), conversation());
    expect(res.status).to.equal(200);
    expect(up.bodies[0].messages.map((m: { content: string }) => m.content)).to.deep.equal([
      'Escalate to [REDACTED_EMAIL].',
      'My card is [REDACTED_CREDIT_CARD]',
      'Thanks.',
      'Call me on [REDACTED_PHONE]',
    ]);
  });

  it('pii.detect with deny before the call: 446, nothing sent upstream, no values in the results', async () => {
    const res = await chat(gw.url, up.leaf({ input_guardrails: [{ 'pii.detect': { categories: ['credit_card'] }, deny: true }] }), conversation());
    expect(res.status).to.equal(446);
    expect(up.bodies).to.have.length(0);
    expect(res.json.hook_results.before_request_hooks[0].checks[0].data).to.deep.include({ kinds: { CREDIT_CARD: 1 } });
    expect(JSON.stringify(res.json.hook_results)).to.not.include('4111');
  });

  it('pii.redact after the call: the client gets the answer masked', async () => {
    up.reply = 'Sure, write to support@vendor.example or call 415-555-2671.';
    const res = await chat(gw.url, up.leaf({ output_mutators: [{ 'pii.redact': {} }] }), {
      model: 'm',
      messages: [{ role: 'user', content: 'contact?' }],
    });
    expect(res.status).to.equal(200);
    expect(res.json.choices[0].message.content).to.equal('Sure, write to [REDACTED_EMAIL] or call [REDACTED_PHONE].');
  });

  it('pii.detect with deny stops a stream once a secret has streamed, before the rest', async () => {
    up.reply = `The key is ${['sk', 'proj', 'abcdefghijklmnopqrstuvwxyz012345'].join('-')} and then more words follow here`;
    const res = await chat(gw.url, up.leaf({ output_guardrails: [{ 'pii.detect': { categories: ['secret'] }, deny: true }] }), {
      model: 'm',
      messages: [{ role: 'user', content: 'key?' }],
      stream: true,
    });
    expect(res.status).to.equal(200);
    expect(res.text).to.include('pii.detect');
    expect(res.text).to.not.include('follow here');
    expect(res.text).to.not.include('data: [DONE]');
  });
});
