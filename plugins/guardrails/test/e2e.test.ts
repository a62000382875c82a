// End to end: the real gateway with the OpenAI provider, the strategies, this plugin and the test
// checks, in front of a fake upstream on loopback. Guardrails come from the routing config header in
// Portkey's forms.
import { expect } from 'chai';
import { startGateway } from '@waygate/core';
import type { Gateway } from '@waygate/core';
import { FakeUpstream } from './upstream.js';
import { CHECKS, GUARDRAILS, LogCapture, MESSAGES, chatBody, post, streamedText } from './support.js';
import { gate, gateCalls, resetChecks, seen } from './checks-plugin.js';

const HOOKS_FAILED = 'The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.';

describe('@waygate/guardrails end to end', function () {
  this.timeout(10_000);
  let up: FakeUpstream;
  let gw: Gateway;
  let logs: LogCapture;

  before(async () => {
    up = await FakeUpstream.start();
    logs = new LogCapture();
    gw = await startGateway({
      config: {
        defaultPlugins: false,
        plugins: [
          '@waygate/openai-api',
          '@waygate/provider-openai',
          '@waygate/strategy-single',
          '@waygate/strategy-fallback',
          { module: GUARDRAILS, options: { checkTimeoutMs: 2000 } },
          CHECKS,
          MESSAGES,
        ],
      },
      port: 0,
      host: '127.0.0.1',
      logger: logs.logger,
    });
  });
  after(async () => {
    await gw?.close(0);
    await up?.close();
  });
  beforeEach(() => {
    up.reset();
    resetChecks();
  });

  const leaf = (extra: Record<string, unknown> = {}) => up.leaf('a', extra);
  const chat = (config: unknown, content: string, headers?: Record<string, string>, extra?: Record<string, unknown>) =>
    post(gw.url, config, chatBody(content, extra), { headers });

  describe('input guardrails (before the call)', () => {
    it("a failed deny hook answers 446 with Portkey's body and hook_results, and the upstream is not called", async () => {
      const res = await chat(leaf({ input_guardrails: [{ 'test.contains': { words: ['password'] }, deny: true }] }), 'my password is hunter2');
      expect(res.status).to.equal(446);
      expect(up.hits()).to.equal(0);
      expect(Object.keys(res.json)).to.deep.equal(['error', 'hook_results']);
      expect(res.json.error).to.deep.equal({ message: HOOKS_FAILED, type: 'hooks_failed', param: null, code: null });
      expect(res.json.hook_results.after_request_hooks).to.deep.equal([]);
      const [hook] = res.json.hook_results.before_request_hooks;
      expect(hook).to.include({ verdict: false, id: 'input_guardrail_0', deny: true, async: false, type: 'guardrail', transformed: false });
      expect(hook.checks[0]).to.include({ verdict: false, id: 'test.contains', fail_on_error: true, transformed: false });
      expect(hook.checks[0].data).to.deep.equal({ found: ['password'] });
      expect(hook.checks[0].created_at).to.be.a('string');
      expect(res.headers.get('x-waygate-guardrails')).to.equal('denied');
    });

    it('a failed hook without deny lets the call through: 246 with hook_results added to the answer', async () => {
      const res = await chat(leaf({ input_guardrails: [{ 'test.contains': { words: ['password'] } }] }), 'my password');
      expect(res.status).to.equal(246);
      expect(up.hits()).to.equal(1);
      expect(res.json.choices[0].message.content).to.equal('Hello there, friend');
      expect(res.json.hook_results.before_request_hooks[0]).to.include({ verdict: false, deny: false });
      expect(res.json.hook_results.after_request_hooks).to.deep.equal([]);
      expect(res.headers.get('x-waygate-guardrails')).to.equal('failed');
    });

    it('passing hooks leave the status alone and still report hook_results', async () => {
      const res = await chat(leaf({ input_guardrails: [{ 'test.contains': { words: ['password'] }, deny: true }] }), 'hello');
      expect(res.status).to.equal(200);
      expect(res.json.hook_results.before_request_hooks[0]).to.include({ verdict: true, deny: false });
      expect(res.headers.get('x-waygate-guardrails')).to.equal('passed');
    });

    it('the full hook objects work the same way (before_request_hooks)', async () => {
      const config = leaf({
        before_request_hooks: [{ id: 'no-secrets', type: 'guardrail', deny: true, checks: [{ id: 'test.contains', parameters: { words: ['secret'] } }] }],
      });
      const res = await chat(config, 'a secret');
      expect(res.status).to.equal(446);
      expect(res.json.hook_results.before_request_hooks[0].id).to.equal('no-secrets');
      expect(up.hits()).to.equal(0);
    });

    it('mutators change what the upstream receives', async () => {
      const config = leaf({ input_mutators: [{ 'test.replace': { from: 'hunter2', to: '[REDACTED]' } }] });
      const res = await chat(config, 'my password is hunter2');
      expect(res.status).to.equal(200);
      expect(up.received[0]!.body.messages).to.deep.equal([{ role: 'user', content: 'my password is [REDACTED]' }]);
      expect(up.received[0]!.body.model).to.equal('gpt-test');
      expect(res.json.hook_results.before_request_hooks[0]).to.include({ type: 'mutator', transformed: true, verdict: true });
    });

    it('a mutator returning a whole body changes the whole request', async () => {
      const res = await chat(leaf({ input_mutators: [{ 'test.tag': { field: 'user', value: 'team-a' } }] }), 'hi');
      expect(res.status).to.equal(200);
      expect(up.received[0]!.body.user).to.equal('team-a');
    });

    it('a check that throws denies (fails closed) unless fail_on_error is false', async () => {
      const closed = await chat(leaf({ input_guardrails: [{ 'test.throws': { message: 'moderation down' }, deny: true }] }), 'hi');
      expect(closed.status).to.equal(446);
      expect(up.hits()).to.equal(0);
      expect(closed.json.hook_results.before_request_hooks[0].checks[0].error).to.deep.equal({ name: 'Error', message: 'moderation down' });

      const open = await chat(leaf({ input_guardrails: [{ 'test.throws': { fail_on_error: false }, deny: true }] }), 'hi');
      expect(open.status).to.equal(200);
      expect(up.hits()).to.equal(1);
      expect(open.json.hook_results.before_request_hooks[0]).to.include({ verdict: true });
      expect(open.json.hook_results.before_request_hooks[0].checks[0]).to.include({ verdict: false, fail_on_error: false });
    });

    it('async hooks do not hold the answer; their results are logged', async () => {
      const config = leaf({ input_guardrails: [{ 'test.gate': { name: 'slow-input', verdict: false }, async: true, deny: true }] });
      const res = await chat(config, 'hi');
      // The gate is still closed: the answer did not wait for the hook.
      expect(res.status).to.equal(200);
      expect(gateCalls.get('slow-input')).to.equal(1);
      expect(up.hits()).to.equal(1);
      // Only sync hooks report in the answer.
      expect(res.json.hook_results).to.equal(undefined);
      const reqId = res.headers.get('x-waygate-request-id');
      gate('slow-input').open();
      const line = await logs.waitFor((r) => r.msg === 'async guardrails failed' && r.reqId === reqId, 'for the async hook');
      expect(line.level).to.equal('warn');
      expect(line.side).to.equal('input');
      expect((line.hook_results as any[])[0]).to.include({ id: 'input_guardrail_0', verdict: false, async: true });
    });

    it("the default-guardrails headers (Portkey's and Waygate's names) add guardrails to every target", async () => {
      const header = JSON.stringify([{ 'test.contains': { words: ['forbidden'] }, deny: true }]);
      const denied = await chat(leaf(), 'a forbidden word', { 'x-portkey-default-input-guardrails': header });
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].id).to.equal('default_input_guardrail_0');
      const out = await chat(leaf(), 'hi', { 'x-waygate-default-output-guardrails': JSON.stringify([{ 'test.minLength': { min: 1000 } }]) });
      expect(out.status).to.equal(246);
      expect(out.json.hook_results.after_request_hooks[0].id).to.equal('default_output_guardrail_0');
      const bad = await chat(leaf(), 'hi', { 'x-portkey-default-input-guardrails': '[{"test.contains": ' });
      expect(bad.status).to.equal(400);
      expect(bad.json.error.code).to.equal('invalid_header');
      expect(bad.json.error.message).to.include('x-portkey-default-input-guardrails is not valid JSON');
      const unknown = await chat(leaf(), 'hi', { 'x-waygate-default-output-guardrails': '[{"test.nope": {}}]' });
      expect(unknown.status).to.equal(400);
      expect(unknown.json.error.message).to.include('unknown guardrail check "test.nope"');
      expect(up.hits()).to.equal(1);
    });
  });

  describe('the routing tree', () => {
    it("a parent's guardrails apply to every target below it, accumulated down to the leaf", async () => {
      up.status.a = 500;
      const config = {
        strategy: { mode: 'fallback' },
        input_guardrails: [{ 'test.seen': {} }],
        output_guardrails: [{ 'test.seen': {} }],
        targets: [
          up.leaf('a', { output_guardrails: [{ 'test.minLength': { min: 1 } }] }),
          {
            strategy: { mode: 'single' },
            output_guardrails: [{ 'test.seen': {} }],
            targets: [up.leaf('b', { output_guardrails: [{ 'test.seen': {} }] })],
          },
        ],
      };
      const res = await chat(config, 'hi');
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-waygate-target')).to.equal('config.targets[1].targets[0]');
      // The root's and every node's on the way to the target that answered; not target a's.
      expect(res.json.hook_results.after_request_hooks.map((h: any) => h.id)).to.deep.equal([
        'output_guardrail_0',
        'targets[1].output_guardrail_0',
        'targets[1].targets[0].output_guardrail_0',
      ]);
    });

    it('input guardrails of every target in the plan run before the call: a fallback cannot skip one', async () => {
      const config = {
        strategy: { mode: 'fallback' },
        targets: [up.leaf('a'), up.leaf('b', { input_guardrails: [{ 'test.contains': { words: ['forbidden'] }, deny: true }] })],
      };
      const denied = await chat(config, 'something forbidden');
      expect(denied.status).to.equal(446);
      expect(denied.json.hook_results.before_request_hooks[0].id).to.equal('targets[1].input_guardrail_0');
      expect(up.hits()).to.equal(0);

      const ok = await chat(config, 'something fine');
      expect(ok.status).to.equal(200);
      expect(up.hits('a')).to.equal(1);
      expect(ok.json.hook_results.before_request_hooks).to.have.length(1);
    });

    it('a hook shared by several targets (on their parent) runs once', async () => {
      const config = {
        strategy: { mode: 'fallback' },
        input_guardrails: [{ 'test.seen': {} }],
        targets: [up.leaf('a'), up.leaf('b')],
      };
      const res = await chat(config, 'hi');
      expect(res.json.hook_results.before_request_hooks.map((h: any) => h.id)).to.deep.equal(['input_guardrail_0']);
      expect(seen).to.have.length(1);
    });
  });

  describe('output guardrails (after the call)', () => {
    it('a failed deny hook answers 446 with both result arrays', async () => {
      up.reply = 'Here is the secret plan';
      const config = leaf({ input_guardrails: [{ 'test.seen': {} }], output_guardrails: [{ 'test.contains': { words: ['secret'] }, deny: true }] });
      const res = await chat(config, 'hi');
      expect(res.status).to.equal(446);
      expect(up.hits()).to.equal(1);
      expect(res.json.error).to.deep.equal({ message: HOOKS_FAILED, type: 'hooks_failed', param: null, code: null });
      expect(res.json.choices).to.equal(undefined);
      expect(res.json.hook_results.before_request_hooks[0]).to.include({ verdict: true });
      expect(res.json.hook_results.after_request_hooks[0]).to.include({ verdict: false, deny: true, id: 'output_guardrail_0' });
      expect(res.headers.get('x-waygate-guardrails')).to.equal('denied');
    });

    it('a failed hook without deny answers 246 with the answer and hook_results', async () => {
      const res = await chat(leaf({ output_guardrails: [{ 'test.minLength': { min: 1000 } }] }), 'hi');
      expect(res.status).to.equal(246);
      expect(res.json.choices[0].message.content).to.equal('Hello there, friend');
      expect(res.json.hook_results.before_request_hooks).to.deep.equal([]);
      expect(res.json.hook_results.after_request_hooks[0].checks[0]).to.deep.include({ verdict: false, id: 'test.minLength', data: { length: 19 } });
    });

    it('output mutators change the answer', async () => {
      const res = await chat(leaf({ output_mutators: [{ 'test.upper': {} }] }), 'hi');
      expect(res.status).to.equal(200);
      expect(res.json.choices[0].message.content).to.equal('HELLO THERE, FRIEND');
      expect(res.json.hook_results.after_request_hooks[0]).to.include({ transformed: true });
    });

    it('checks after the call see the answer, its status, the request as sent and the provider', async () => {
      const config = leaf({ input_mutators: [{ 'test.upper': {} }], output_guardrails: [{ 'test.seen': {} }] });
      await chat(config, 'quiet please');
      expect(seen).to.deep.equal([
        {
          hook: 'afterResponse',
          text: 'Hello there, friend',
          requestText: 'QUIET PLEASE',
          endpoint: 'chat.completions',
          provider: 'openai',
          status: 200,
          responseText: 'Hello there, friend',
          model: 'gpt-test',
        },
      ]);
    });

    it('error answers are left alone', async () => {
      up.status.a = 400;
      const res = await chat(leaf({ output_guardrails: [{ 'test.minLength': { min: 1000 } }] }), 'hi');
      expect(res.status).to.equal(400);
      expect(res.json.hook_results).to.equal(undefined);
    });

    it('async output hooks do not hold the answer; their results are logged', async () => {
      const res = await chat(leaf({ output_guardrails: [{ 'test.gate': { name: 'slow-output' }, async: true }] }), 'hi');
      expect(res.status).to.equal(200);
      const reqId = res.headers.get('x-waygate-request-id');
      gate('slow-output').open();
      const line = await logs.waitFor((r) => r.msg === 'async guardrails passed' && r.reqId === reqId, 'for the async output hook');
      expect(line.side).to.equal('output');
    });

    it("the completions endpoint: the prompt and the answer's text", async () => {
      up.reply = 'a completion';
      const config = leaf({ input_mutators: [{ 'test.upper': {} }], output_mutators: [{ 'test.replace': { from: 'completion', to: 'reply' } }] });
      const res = await post(gw.url, config, { model: 'gpt-test', prompt: 'say it' }, { path: '/v1/completions' });
      expect(res.status).to.equal(200);
      expect(up.received[0]!.body.prompt).to.equal('SAY IT');
      expect(res.json.choices[0].text).to.equal('a reply');
    });
  });

  describe('config errors: a 400 naming the path, before any call', () => {
    it('an unknown check id, with close matches', async () => {
      const config = { strategy: { mode: 'fallback' }, targets: [up.leaf('a', { input_guardrails: [{ 'test.contans': { words: ['x'] } }] })] };
      const res = await chat(config, 'hi');
      expect(res.status).to.equal(400);
      expect(res.json.error.code).to.equal('invalid_config');
      expect(res.json.error.param).to.equal('config.targets[0].input_guardrails[0]["test.contans"]');
      expect(res.json.error.message).to.include('did you mean "test.contains"?');
      expect(up.hits()).to.equal(0);
    });

    it('bad parameters, a check on the wrong side, a saved guardrail id', async () => {
      const bad = await chat(leaf({ output_guardrails: [{ 'test.minLength': { min: 'ten' } }] }), 'hi');
      expect(bad.status).to.equal(400);
      expect(bad.json.error.message).to.include('config.output_guardrails[0]["test.minLength"].min');
      const side = await chat(leaf({ input_guardrails: [{ 'test.outputOnly': {} }] }), 'hi');
      expect(side.status).to.equal(400);
      expect(side.json.error.message).to.include('runs only after the call');
      const saved = await chat(leaf({ input_guardrails: ['pg-abc'] }), 'hi');
      expect(saved.status).to.equal(400);
      expect(saved.json.error.message).to.include("saved in Portkey's hosted app");
      expect(up.hits()).to.equal(0);
    });
  });

  describe('streams', () => {
    it('a deny hook stops the stream midway: a terminal error event naming the guardrail, and the upstream is closed', async () => {
      up.chunks = ['Hello ', 'there, ', 'the forbidden ', 'part ', 'follows'];
      up.hang = true;
      const config = leaf({ output_guardrails: [{ 'test.contains': { words: ['forbidden'] }, deny: true }] });
      const res = await chat(config, 'hi', {}, { stream: true });
      expect(res.status).to.equal(200);
      const last = res.events[res.events.length - 1]!;
      const err = JSON.parse(last.data);
      expect(err.error).to.include({ type: 'hooks_failed', code: 'guardrail_denied' });
      expect(err.error.message).to.include('output_guardrail_0').and.include('test.contains');
      expect(err.hook_results.after_request_hooks[0]).to.include({ verdict: false, deny: true, id: 'output_guardrail_0' });
      // The text up to the forbidden chunk went out; the forbidden chunk and what followed did not.
      expect(streamedText(res.events.slice(0, -1))).to.equal('Hello there, ');
      expect(res.events.some((e) => e.data === '[DONE]')).to.equal(false);
      // The upstream was still sending (it never ends by itself): the gateway closed it.
      const closed = await up.lastStream!.closed;
      expect(closed.finished).to.equal(false);
    });

    it('at the end, every check runs on the complete text and one hook_results event comes before [DONE]', async () => {
      const config = leaf({ output_guardrails: [{ 'test.minLength': { min: 1000 } }, { 'test.contains': { words: ['zebra'] }, deny: true }] });
      const res = await chat(config, 'hi', {}, { stream: true });
      expect(res.status).to.equal(200);
      const n = res.events.length;
      expect(res.events[n - 1]!.data).to.equal('[DONE]');
      const results = JSON.parse(res.events[n - 2]!.data);
      expect(results.choices).to.deep.equal([]);
      expect(results.hook_results.before_request_hooks).to.deep.equal([]);
      const [min, zebra] = results.hook_results.after_request_hooks;
      expect(min.checks[0]).to.deep.include({ id: 'test.minLength', verdict: false, data: { length: 19 } });
      expect(zebra).to.include({ verdict: true, deny: false });
      expect(streamedText(res.events.slice(0, n - 2))).to.equal('Hello there, friend');
      expect(res.events.filter((e) => e.data.includes('hook_results'))).to.have.length(1);
    });

    it('a deny hook that fails only on the complete text ends the stream with an error event instead of [DONE]', async () => {
      const res = await chat(leaf({ output_guardrails: [{ 'test.minLength': { min: 1000 }, deny: true }] }), 'hi', {}, { stream: true });
      const n = res.events.length;
      expect(JSON.parse(res.events[n - 2]!.data).hook_results.after_request_hooks[0]).to.include({ deny: true });
      const err = JSON.parse(res.events[n - 1]!.data);
      expect(err.error.code).to.equal('guardrail_denied');
      expect(err.error.message).to.include('output_guardrail_0');
      expect(res.events.some((e) => e.data === '[DONE]')).to.equal(false);
    });

    it('a failed input hook without deny makes a stream 246; with no output hooks no results event is added', async () => {
      const res = await chat(leaf({ input_guardrails: [{ 'test.contains': { words: ['hi'] } }] }), 'hi', {}, { stream: true });
      expect(res.status).to.equal(246);
      expect(res.events.some((e) => e.data.includes('hook_results'))).to.equal(false);
      expect(streamedText(res.events)).to.equal('Hello there, friend');
    });

    it('output mutators on a stream: the answer is changed before the client sees any of it', async () => {
      const res = await chat(leaf({ output_mutators: [{ 'test.upper': {} }] }), 'hi', {}, { stream: true });
      expect(res.status).to.equal(200);
      const n = res.events.length;
      expect(res.events[n - 1]!.data).to.equal('[DONE]');
      expect(JSON.parse(res.events[n - 2]!.data).hook_results.after_request_hooks[0]).to.include({ transformed: true });
      expect(streamedText(res.events.slice(0, n - 2))).to.equal('HELLO THERE, FRIEND');
    });

    it('with output mutators, a deny is still a 446 (nothing has been sent yet)', async () => {
      const config = leaf({ output_mutators: [{ 'test.upper': {} }], output_guardrails: [{ 'test.contains': { words: ['friend'] }, deny: true }] });
      const res = await chat(config, 'hi', {}, { stream: true });
      expect(res.status).to.equal(446);
      expect(res.json.hook_results.after_request_hooks.map((h: any) => h.verdict)).to.deep.equal([false, true]);
    });
  });

  describe('an API with named stream events and its own error shape (Anthropic Messages)', () => {
    const anthro = (extra: Record<string, unknown>) => ({ provider: 'anthro-test', api_key: 'k', custom_host: `${up.url}/a`, ...extra });
    const messages = (config: unknown, stream: boolean) =>
      post(gw.url, config, { model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], stream }, { path: '/v1/messages' });

    it("a 446 in the API's error shape, with hook_results", async () => {
      const res = await messages(anthro({ output_guardrails: [{ 'test.contains': { words: ['friend'] }, deny: true }] }), false);
      expect(res.status).to.equal(446);
      expect(res.json.type).to.equal('error');
      expect(res.json.error).to.deep.equal({ type: 'hooks_failed', message: HOOKS_FAILED });
      expect(res.json.hook_results.after_request_hooks[0]).to.include({ deny: true });
    });

    it('mid-stream deny: an `event: error` naming the guardrail', async () => {
      up.chunks = ['Hello ', 'forbidden ', 'more'];
      up.hang = true;
      const res = await messages(anthro({ output_guardrails: [{ 'test.contains': { words: ['forbidden'] }, deny: true }] }), true);
      const last = res.events[res.events.length - 1]!;
      expect(last.event).to.equal('error');
      expect(JSON.parse(last.data).error.message).to.include('output_guardrail_0');
      expect((await up.lastStream!.closed).finished).to.equal(false);
    });

    it('at the end: `event: hook_results` before message_stop, with the text of the content blocks checked', async () => {
      const res = await messages(anthro({ output_guardrails: [{ 'test.minLength': { min: 19 } }, { 'test.seen': {} }] }), true);
      const names = res.events.map((e) => e.event);
      expect(names.slice(-2)).to.deep.equal(['hook_results', 'message_stop']);
      const results = JSON.parse(res.events[res.events.length - 2]!.data).hook_results;
      expect(results.after_request_hooks[0]).to.include({ verdict: true });
      expect(seen[0]).to.include({ endpoint: 'messages', text: 'Hello there, friend' });
    });
  });
});
