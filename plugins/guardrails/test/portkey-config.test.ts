// End to end with the bundled `default` checks package: the input guardrail of Portkey's documented
// config example (a 16-digit number must not appear; deny) behaves as in Portkey. Skipped, saying so,
// when @waygate/guardrail-default is not built in this tree.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { GUARDRAILS, LogCapture, chatBody, post, streamedText } from './support.js';

function defaultChecksBuilt(): boolean {
  try {
    return existsSync(fileURLToPath(import.meta.resolve('@waygate/guardrail-default')));
  } catch {
    return false;
  }
}

describe("@waygate/guardrails with @waygate/guardrail-default: Portkey's config example", function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  let gw: Gateway;
  let logs: LogCapture;

  before(async function () {
    if (!defaultChecksBuilt()) this.skip();
    up = await FakeUpstream.start();
    logs = new LogCapture();
    gw = await startGateway({
      config: { defaultPlugins: false, plugins: ['@waygate/openai-api', '@waygate/provider-openai', GUARDRAILS, '@waygate/guardrail-default'] },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
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

  describe("a config of hooks only, the provider, key and host in headers (Portkey's drop-in form)", () => {
    const KEY = 'sk-client-key-portkey';
    /** Headers as a Portkey client sends them: provider, key and custom host, and a config holding only hooks. */
    const portkey = (config: unknown, extra: Record<string, string> = {}) => ({
      'x-portkey-provider': 'openai',
      authorization: `Bearer ${KEY}`,
      'x-portkey-custom-host': `${up.url}/pk`,
      'x-portkey-config': JSON.stringify(config),
      ...extra,
    });
    const send = (config: unknown, body: Record<string, unknown>, extra?: Record<string, string>) =>
      post(gw.url, undefined, body, { headers: portkey(config, extra) });
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

      const stopped = await send(
        { output_guardrails: [{ 'default.contains': { words: ['friend'], operator: 'none' }, deny: true }] },
        chatBody('hi', { stream: true }),
      );
      expect(stopped.status).to.equal(200);
      const err = JSON.parse(stopped.events[stopped.events.length - 1]!.data);
      expect(err.error).to.include({ type: 'hooks_failed', code: 'guardrail_denied' });
      expect(streamedText(stopped.events.slice(0, -1))).to.equal('Hello there, ');
      expect(stopped.events.some((e) => e.data === '[DONE]')).to.equal(false);
    });

    it("Waygate's header names work the same way", async () => {
      const headers = { 'x-waygate-provider': 'openai', authorization: `Bearer ${KEY}`, 'x-waygate-custom-host': `${up.url}/wg` };
      const res = await post(gw.url, cardDeny, chatBody('card 4111111111111111'), { headers });
      expect(res.status).to.equal(446);
      const ok = await post(gw.url, cardDeny, chatBody('fine'), { headers });
      expect(ok.status).to.equal(200);
      expect(up.received.map((r) => r.path)).to.deep.equal(['/wg/chat/completions']);
    });

    it('with no provider header: a 400 saying a provider is needed, and no call', async () => {
      const res = await post(gw.url, undefined, chatBody('hi'), {
        headers: { authorization: `Bearer ${KEY}`, 'x-portkey-config': JSON.stringify(cardDeny) },
      });
      expect(res.status).to.equal(400);
      expect(res.json.error.code).to.equal('missing_provider');
      expect(res.json.error.message).to.include('x-portkey-provider');
      expect(up.hits()).to.equal(0);
    });
  });

  describe('parameters Portkey ignores', () => {
    /** A webhook and log collector on loopback: the webhook passes everything. */
    let hook: http.Server;
    let hookUrl = '';
    before(async () => {
      hook = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"verdict":true}');
        });
      });
      await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
      hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    });
    after(async () => {
      hook?.closeAllConnections();
      await new Promise((resolve) => hook?.close(resolve));
    });
    const ignoredLines = () => logs.records().filter((r) => r.msg.startsWith('guardrail parameters ignored'));

    it('`not: false` on checks that have no `not` (contains, jsonKeys, webhook, log) is accepted, without a warning', async () => {
      const before = ignoredLines().length;
      up.reply = 'Here: {"name": "x", "age": 3} friend';
      const config = up.leaf('a', {
        input_guardrails: [{ 'default.webhook': { webhookURL: `${hookUrl}/hook`, not: false } }],
        output_guardrails: [
          { 'default.contains': { words: ['friend'], operator: 'any', not: false } },
          { 'default.jsonKeys': { keys: ['name'], operator: 'any', not: false } },
          { 'default.log': { logURL: `${hookUrl}/log`, not: false } },
        ],
      });
      const res = await post(gw.url, config, chatBody('hi'));
      expect(res.status, JSON.stringify(res.json)).to.equal(200);
      expect(res.json.hook_results.before_request_hooks.map((h: any) => h.verdict)).to.deep.equal([true]);
      expect(res.json.hook_results.after_request_hooks.map((h: any) => h.verdict)).to.deep.equal([true, true, true]);
      expect(ignoredLines().length).to.equal(before);
    });

    it('an extra parameter a check does not define is ignored with a warning naming it (once per config), not a 400', async () => {
      const config = up.leaf('a', {
        output_guardrails: [{ 'default.contains': { words: ['friend'], operator: 'any', caseSensitive: true }, deny: true }],
      });
      for (let i = 0; i < 2; i++) {
        const res = await post(gw.url, config, chatBody('hi'));
        expect(res.status).to.equal(200);
        expect(res.json.hook_results.after_request_hooks[0]).to.include({ verdict: true });
      }
      const lines = ignoredLines().filter((r) => (r.ignored as string[]).includes('caseSensitive'));
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ level: 'warn', check: 'default.contains', where: 'config.output_guardrails[0]["default.contains"]' });
      expect(lines[0]!.msg).to.include('strictParameters');
    });

    it('`not: true` on a check without `not` is ignored as Portkey does (the verdict is not inverted), with a warning saying so', async () => {
      const config = up.leaf('a', { output_guardrails: [{ 'default.contains': { words: ['friend'], operator: 'any', not: true }, deny: true }] });
      const res = await post(gw.url, config, chatBody('hi'));
      expect(res.status).to.equal(200);
      expect(res.json.hook_results.after_request_hooks[0]).to.include({ verdict: true });
      const line = ignoredLines().find((r) => r.where === 'config.output_guardrails[0]["default.contains"]' && (r.ignored as string[]).includes('not'));
      expect(line?.msg).to.include('not inverted');
    });

    it('mistakes are still refused: a wrong type, a missing required parameter', async () => {
      const wrong = await post(gw.url, up.leaf('a', { output_guardrails: [{ 'default.contains': { words: 'friend' } }] }), chatBody('hi'));
      expect(wrong.status).to.equal(400);
      expect(wrong.json.error.param).to.equal('config.output_guardrails[0]["default.contains"]');
      expect(wrong.json.error.message).to.include('.words');
      const missing = await post(gw.url, up.leaf('a', { input_guardrails: [{ 'default.regexMatch': { not: false } }] }), chatBody('hi'));
      expect(missing.status).to.equal(400);
      expect(missing.json.error.message).to.include('.rule');
      expect(up.hits()).to.equal(0);
    });

    describe('with the option strictParameters: true', () => {
      let strict: Gateway;
      before(async () => {
        strict = await startGateway({
          config: {
            defaultPlugins: false,
            plugins: [
              '@waygate/openai-api',
              '@waygate/provider-openai',
              { module: GUARDRAILS, options: { strictParameters: true } },
              '@waygate/guardrail-default',
            ],
          },
          port: 0,
          host: '127.0.0.1',
          logger: new LogCapture().logger,
        });
      });
      after(async () => {
        await strict?.close(0);
      });

      it('an extra parameter, or `not: true` where the check has no `not`, is a 400 naming it; `not: false` is still accepted', async () => {
        const extra = await post(
          strict.url,
          up.leaf('a', { output_guardrails: [{ 'default.contains': { words: ['x'], caseSensitive: true } }] }),
          chatBody('hi'),
        );
        expect(extra.status).to.equal(400);
        expect(extra.json.error.code).to.equal('invalid_config');
        expect(extra.json.error.message).to.include('caseSensitive');
        const notTrue = await post(
          strict.url,
          up.leaf('a', { output_guardrails: [{ 'default.jsonKeys': { keys: ['a'], operator: 'any', not: true } }] }),
          chatBody('hi'),
        );
        expect(notTrue.status).to.equal(400);
        expect(notTrue.json.error.message).to.include('"not"');
        expect(up.hits()).to.equal(0);
        const ok = await post(
          strict.url,
          up.leaf('a', { output_guardrails: [{ 'default.contains': { words: ['friend'], operator: 'any', not: false } }] }),
          chatBody('hi'),
        );
        expect(ok.status).to.equal(200);
      });
    });
  });
});
