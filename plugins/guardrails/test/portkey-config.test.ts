// End to end with the bundled `default` checks package: the input guardrail of Portkey's documented
// config example (a 16-digit number must not appear; deny) behaves as in Portkey. Skipped, saying so,
// when @waygate/guardrail-default is not built in this tree.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger, startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { GUARDRAILS, chatBody, post, streamedText } from './support.js';

function defaultChecksBuilt(): boolean {
  try {
    return existsSync(fileURLToPath(import.meta.resolve('@waygate/guardrail-default')));
  } catch {
    return false;
  }
}

describe('@waygate/guardrails with @waygate/guardrail-default: Portkey\'s config example', function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  let gw: Gateway;

  before(async function () {
    if (!defaultChecksBuilt()) this.skip();
    up = await FakeUpstream.start();
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/provider-openai', GUARDRAILS, '@waygate/guardrail-default'] },
      port: 0,
      host: '127.0.0.1',
      logger: createLogger({ level: 'silent' }),
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => up?.reset());

  const config = () => up.leaf('a', { input_guardrails: [{ 'default.regexMatch': { rule: '\\b\\d{16}\\b', not: true }, deny: true }] });

  it('denies a prompt with a card number (446, no upstream call) and lets others through', async () => {
    const denied = await post(gw.url, config(), chatBody('my card is 4111111111111111'));
    expect(denied.status).to.equal(446);
    expect(denied.json.hook_results.before_request_hooks[0].checks[0]).to.include({ id: 'default.regexMatch', verdict: false });
    expect(up.hits()).to.equal(0);
    const ok = await post(gw.url, config(), chatBody('no numbers here'));
    expect(ok.status).to.equal(200);
    expect(ok.json.hook_results.before_request_hooks[0]).to.include({ verdict: true });
    expect(up.hits()).to.equal(1);
  });

  it('the same check without the namespace (`regexMatch`) is `default.regexMatch`, as in Portkey', async () => {
    const res = await post(gw.url, up.leaf('a', { input_guardrails: [{ regexMatch: { rule: 'x' }, deny: true }] }), chatBody('no match'));
    expect(res.status).to.equal(446);
  });

  describe('a config of hooks only, the provider, key and host in headers (Portkey\'s drop-in form)', () => {
    const KEY = 'sk-client-key-portkey';
    /** Headers as a Portkey client sends them: provider, key and custom host, and a config holding only hooks. */
    const portkey = (config: unknown, extra: Record<string, string> = {}) => ({
      'x-portkey-provider': 'openai',
      authorization: `Bearer ${KEY}`,
      'x-portkey-custom-host': `${up.url}/pk`,
      'x-portkey-config': JSON.stringify(config),
      ...extra,
    });
    const send = (config: unknown, body: Record<string, unknown>, extra?: Record<string, string>) => post(gw.url, undefined, body, { headers: portkey(config, extra) });
    const cardDeny = { input_guardrails: [{ 'default.regexMatch': { rule: '\\b\\d{16}\\b', not: true }, deny: true }] };

    it('input guardrail, JSON: a deny is a 446 without an upstream call; a pass reaches the header-named provider with the Authorization key', async () => {
      const denied = await send(cardDeny, chatBody('my card is 4111111111111111'));
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0]).to.include({ verdict: false, deny: true });
      expect(up.hits()).to.equal(0);
      const ok = await send(cardDeny, chatBody('no numbers here'));
      expect(ok.status).to.equal(200);
      expect(ok.json.choices[0].message.content).to.equal('Hello there, friend');
      expect(ok.json.hook_results.before_request_hooks[0]).to.include({ verdict: true });
      expect(ok.headers.get('x-portkey-provider')).to.equal('openai');
      expect(up.received.map((r) => [r.path, r.authorization])).to.deep.equal([['/pk/chat/completions', `Bearer ${KEY}`]]);
    });

    it('output guardrail, JSON, in the full hook form: a failed check without deny is a 246 with hook_results; with deny a 446', async () => {
      const hooks = (deny: boolean) => ({
        after_request_hooks: [{ id: 'suffix', deny, checks: [{ id: 'default.endsWith', parameters: { suffix: 'goodbye' } }] }],
      });
      const failed = await send(hooks(false), chatBody('hi'));
      expect(failed.status).to.equal(246);
      expect(failed.json.choices[0].message.content).to.equal('Hello there, friend');
      expect(failed.json.hook_results.after_request_hooks[0]).to.include({ id: 'suffix', verdict: false, deny: false });
      const denied = await send(hooks(true), chatBody('hi'));
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.after_request_hooks[0]).to.include({ id: 'suffix', verdict: false, deny: true });
      expect(up.hits()).to.equal(2);
    });

    it('input guardrail, stream: a deny is a 446 before the call; a pass streams from the header-named provider', async () => {
      const denied = await send(cardDeny, chatBody('card 4111111111111111', { stream: true }));
      expect(denied.status).to.equal(446);
      expect(up.hits()).to.equal(0);
      const ok = await send(cardDeny, chatBody('no numbers', { stream: true }));
      expect(ok.status).to.equal(200);
      expect(ok.events[ok.events.length - 1]!.data).to.equal('[DONE]');
      expect(streamedText(ok.events)).to.equal('Hello there, friend');
      expect(up.received.map((r) => [r.path, r.authorization, r.body.stream])).to.deep.equal([['/pk/chat/completions', `Bearer ${KEY}`, true]]);
    });

    it('output guardrail, stream: checked at the end (hook_results before [DONE]), and a deny hook stops the stream', async () => {
      const passed = await send({ output_guardrails: [{ 'default.endsWith': { suffix: 'friend' } }] }, chatBody('hi', { stream: true }));
      expect(passed.status).to.equal(200);
      const n = passed.events.length;
      expect(passed.events[n - 1]!.data).to.equal('[DONE]');
      expect(JSON.parse(passed.events[n - 2]!.data).hook_results.after_request_hooks[0]).to.include({ verdict: true });

      const stopped = await send({ output_guardrails: [{ 'default.contains': { words: ['friend'], operator: 'none' }, deny: true }] }, chatBody('hi', { stream: true }));
      expect(stopped.status).to.equal(200);
      const err = JSON.parse(stopped.events[stopped.events.length - 1]!.data);
      expect(err.error).to.include({ type: 'hooks_failed', code: 'guardrail_denied' });
      expect(streamedText(stopped.events.slice(0, -1))).to.equal('Hello there, ');
      expect(stopped.events.some((e) => e.data === '[DONE]')).to.equal(false);
    });

    it('Waygate\'s header names work the same way', async () => {
      const headers = { 'x-waygate-provider': 'openai', authorization: `Bearer ${KEY}`, 'x-waygate-custom-host': `${up.url}/wg` };
      const res = await post(gw.url, cardDeny, chatBody('card 4111111111111111'), { headers });
      expect(res.status).to.equal(446);
      const ok = await post(gw.url, cardDeny, chatBody('fine'), { headers });
      expect(ok.status).to.equal(200);
      expect(up.received.map((r) => r.path)).to.deep.equal(['/wg/chat/completions']);
    });

    it('with no provider header: a 400 saying a provider is needed, and no call', async () => {
      const res = await post(gw.url, undefined, chatBody('hi'), { headers: { authorization: `Bearer ${KEY}`, 'x-portkey-config': JSON.stringify(cardDeny) } });
      expect(res.status).to.equal(400);
      expect(res.json.error.code).to.equal('missing_provider');
      expect(res.json.error.message).to.include('x-portkey-provider');
      expect(up.hits()).to.equal(0);
    });
  });
});
