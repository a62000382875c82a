// Unit tests: every config form of guardrails parsed into hooks, and every way a config is refused.
import { expect } from 'chai';
import { newKernel, use, thrown } from '@waygate/core/testing';
import type { Kernel } from '@waygate/core';
import { CHECKS, closeMatches, parseMixed, parseNodeRaw, resolveHooks, unknownCheckMessage } from '../src/index.js';
import type { GuardrailCheck, HookSet, IgnoredParameters, ResolveOptions } from '../src/index.js';
import checksPlugin from './checks-plugin.js';

describe('@waygate/guardrails: config', () => {
  let kernel: Kernel;
  before(async () => {
    kernel = newKernel();
    await use(kernel, checksPlugin);
  });

  const parse = (node: Record<string, unknown>, path = 'config', options?: ResolveOptions): HookSet =>
    resolveHooks(parseNodeRaw(node as never, path), kernel.registry<GuardrailCheck>(CHECKS), options);
  const refused = (node: Record<string, unknown>, path = 'config', options?: ResolveOptions) => {
    const err = thrown(() => parse(node, path, options));
    expect(err.status, err.message).to.equal(400);
    expect(err.code).to.equal('invalid_config');
    return err;
  };

  describe('the shorthand (input_guardrails, output_guardrails, input_mutators, output_mutators)', () => {
    it('turns each element into a guardrail hook: check ids as keys, hook settings lifted out, parameters parsed', () => {
      const set = parse({
        provider: 'openai',
        input_guardrails: [{ 'test.contains': { words: ['secret'] }, deny: true }],
        output_guardrails: [{ 'test.minLength': { min: 3 }, 'test.seen': {}, async: true, sequential: true, id: 'out-1', name: 'mine' }],
      });
      expect(set.input).to.have.length(1);
      const inHook = set.input[0]!;
      expect(inHook).to.include({
        id: 'input_guardrail_0',
        type: 'guardrail',
        side: 'input',
        deny: true,
        async: false,
        sequential: false,
        mutates: false,
      });
      expect(inHook.checks.map((c) => c.id)).to.deep.equal(['test.contains']);
      // The schema's default (operator: none) was applied.
      expect(inHook.checks[0]!.params).to.deep.equal({ words: ['secret'], operator: 'none' });
      expect(inHook.checks[0]!.failOnError).to.equal(true);
      const outHook = set.output[0]!;
      expect(outHook).to.include({ id: 'out-1', side: 'output', deny: false, async: true, sequential: true });
      expect(outHook.checks.map((c) => c.id)).to.deep.equal(['test.minLength', 'test.seen']);
    });

    it('makes mutator hooks from input_mutators / output_mutators', () => {
      const set = parse({ provider: 'openai', input_mutators: [{ 'test.upper': {} }], output_mutators: [{ 'test.replace': { from: 'a', to: 'b' } }] });
      expect(set.input[0]).to.include({ id: 'input_mutator_0', type: 'mutator', mutates: true });
      expect(set.output[0]).to.include({ id: 'output_mutator_0', type: 'mutator', mutates: true });
    });

    it('gives a check id without a namespace the `default.` one, as Portkey does', () => {
      const raw = parseNodeRaw({ provider: 'openai', input_guardrails: [{ regexMatch: { rule: 'x' } }] }, 'config');
      expect(raw[0]!.checks[0]!.id).to.equal('default.regexMatch');
    });

    it('reads is_enabled and fail_on_error (or failOnError) from the parameters and leaves them out of what the check gets', () => {
      const set = parse({
        provider: 'openai',
        input_guardrails: [
          { 'test.throws': { message: 'x', fail_on_error: false }, 'test.seen': { is_enabled: false } },
          { 'test.throws': { failOnError: false } },
          { 'test.seen': { is_enabled: false } },
        ],
      });
      // The third hook has no enabled check left: it is dropped.
      expect(set.input).to.have.length(2);
      expect(set.input[0]!.checks.map((c) => c.id)).to.deep.equal(['test.throws']);
      expect(set.input[0]!.checks[0]!.failOnError).to.equal(false);
      expect(set.input[0]!.checks[0]!.params).to.deep.equal({ message: 'x' });
      expect(set.input[1]!.checks[0]!.failOnError).to.equal(false);
    });

    it('names hooks below the root after where they are', () => {
      const set = parse({ provider: 'openai', input_guardrails: [{ 'test.seen': {} }, { 'test.seen': {} }] }, 'config.targets[1].targets[0]');
      expect(set.input.map((h) => h.id)).to.deep.equal(['targets[1].targets[0].input_guardrail_0', 'targets[1].targets[0].input_guardrail_1']);
    });

    it("keeps Portkey's order on a node: full hooks, then guardrails, then mutators", () => {
      const set = parse({
        provider: 'openai',
        input_mutators: [{ 'test.upper': {} }],
        input_guardrails: [{ 'test.seen': {} }],
        before_request_hooks: [{ id: 'full', checks: [{ id: 'test.seen' }] }],
      });
      expect(set.input.map((h) => h.id)).to.deep.equal(['full', 'input_guardrail_0', 'input_mutator_0']);
    });

    it('reads on_fail / on_success feedback', () => {
      const set = parse({
        provider: 'openai',
        input_guardrails: [
          { 'test.seen': {}, on_fail: { feedback: { value: -1, weight: 1 } }, on_success: { feedback: { value: 1, metadata: { team: 'a' } } } },
        ],
      });
      expect(set.input[0]!.onFail).to.deep.equal({ value: -1, weight: 1 });
      expect(set.input[0]!.onSuccess).to.deep.equal({ value: 1, metadata: { team: 'a' } });
    });
  });

  describe('the full hook objects (before_request_hooks, after_request_hooks)', () => {
    it('reads id, type, deny, async, sequential and checks with parameters, fail_on_error and is_enabled', () => {
      const set = parse({
        provider: 'openai',
        before_request_hooks: [
          {
            id: 'guard',
            type: 'guardrail',
            deny: true,
            sequential: true,
            checks: [
              { id: 'test.contains', parameters: { words: ['x'], operator: 'any' }, fail_on_error: false },
              { id: 'test.seen', is_enabled: false },
              { id: 'test.minLength', parameters: { min: 1 } },
            ],
          },
        ],
        after_request_hooks: [{ type: 'mutator', checks: [{ id: 'test.upper' }] }],
      });
      const h = set.input[0]!;
      expect(h).to.include({ id: 'guard', type: 'guardrail', deny: true, sequential: true, async: false });
      expect(h.checks.map((c) => [c.id, c.failOnError])).to.deep.equal([
        ['test.contains', false],
        ['test.minLength', true],
      ]);
      expect(set.output[0]).to.include({ id: 'after_request_hook_0', type: 'mutator', mutates: true });
    });

    it('accepts lists that mix both forms (the plugin options and the default-guardrails headers)', () => {
      const raw = parseMixed(
        [{ 'test.seen': {} }, { checks: [{ id: 'test.seen' }], deny: true }, { id: 'named', 'test.seen': {} }],
        'options.input',
        'input',
        'gateway_',
      );
      const set = resolveHooks(raw, kernel.registry<GuardrailCheck>(CHECKS));
      expect(set.input.map((h) => [h.id, h.deny])).to.deep.equal([
        ['gateway_input_guardrail_0', false],
        ['gateway_input_guardrail_1', true],
        ['named', false],
      ]);
    });
  });

  describe('refusals: a 400 naming the path', () => {
    it('an unknown check id, with the close matches', () => {
      const err = refused({ provider: 'openai', input_guardrails: [{ 'test.contans': { words: ['x'] } }] });
      expect(err.param).to.equal('config.input_guardrails[0]["test.contans"]');
      expect(err.message).to.include('config.input_guardrails[0]["test.contans"]: unknown guardrail check "test.contans"');
      expect(err.message).to.include('did you mean "test.contains"?');
    });

    it('an unknown check in a namespace no plugin registers says which package is missing', () => {
      const err = refused({ provider: 'openai', after_request_hooks: [{ checks: [{ id: 'acme.toxicity' }] }] }, 'config.targets[0]');
      expect(err.param).to.equal('config.targets[0].after_request_hooks[0].checks[0]');
      expect(err.message).to.include('no loaded plugin registers checks in the namespace "acme"');
      expect(err.message).to.include('test.contains');
    });

    it("parameters the check's schema rejects, in both forms", () => {
      const short = refused({ provider: 'openai', input_guardrails: [{ 'test.contains': { words: 'secret' } }] });
      expect(short.message).to.include('invalid parameters for check test.contains');
      expect(short.message).to.include('config.input_guardrails[0]["test.contains"].words');
      const full = refused({ provider: 'openai', before_request_hooks: [{ checks: [{ id: 'test.minLength', parameters: { min: -1 } }] }] });
      expect(full.message).to.include('config.before_request_hooks[0].checks[0].parameters.min');
      // An unknown parameter is refused only with strictParameters (see "parameters Portkey ignores").
      const unknownParam = refused({ provider: 'openai', input_guardrails: [{ 'test.minLength': { min: 1, max: 2 } }] }, 'config', {
        strictParameters: true,
      });
      expect(unknownParam.message).to.match(/max/);
    });

    it('a wrong type or a missing required parameter is refused even when unknown parameters are ignored', () => {
      const wrongType = refused({ provider: 'openai', input_guardrails: [{ 'test.minLength': { min: 'one', extra: 1 } }] });
      expect(wrongType.message).to.include('config.input_guardrails[0]["test.minLength"].min');
      expect(wrongType.message, 'the ignored key is not what the error is about').to.not.include('extra');
      const missing = refused({
        provider: 'openai',
        before_request_hooks: [{ checks: [{ id: 'test.contains', parameters: { operator: 'any', not: false } }] }],
      });
      expect(missing.message).to.include('config.before_request_hooks[0].checks[0].parameters.words');
    });

    it('a check used on a hook it does not support', () => {
      const err = refused({ provider: 'openai', input_guardrails: [{ 'test.outputOnly': {} }] });
      expect(err.message).to.include('check test.outputOnly runs only after the call (output); it cannot be used before the call (input)');
      const err2 = refused({ provider: 'openai', output_guardrails: [{ 'test.model': { models: ['m'] } }] });
      expect(err2.message).to.include('cannot be used after the call (output)');
    });

    it('a saved guardrail id (a string) is a hosted Portkey feature', () => {
      const err = refused({ provider: 'openai', input_guardrails: ['pg-guard-123'] });
      expect(err.param).to.equal('config.input_guardrails[0]');
      expect(err.message).to.include("saved in Portkey's hosted app");
      expect(err.message).to.include('write the checks inline');
      expect(refused({ provider: 'openai', before_request_hooks: ['pg-guard-123'] }).message).to.include('hosted');
      expect(refused({ provider: 'openai', input_guardrails: [{ guardrail_version_id: 'v1', 'test.seen': {} }] }).message).to.include('hosted');
    });

    it('invalid hook objects', () => {
      expect(refused({ provider: 'openai', before_request_hooks: [{ id: 'h', checks: [] }] }).message).to.include('at least one check');
      expect(refused({ provider: 'openai', before_request_hooks: [{ id: 'h' }] }).message).to.include('config.before_request_hooks[0].checks');
      const deny = refused({ provider: 'openai', before_request_hooks: [{ deny: 'yes', checks: [{ id: 'test.seen' }] }] });
      expect(deny.message).to.include('config.before_request_hooks[0].deny');
      expect(refused({ provider: 'openai', before_request_hooks: [{ sequentail: true, checks: [{ id: 'test.seen' }] }] }).message).to.include(
        'sequentail',
      );
      expect(refused({ provider: 'openai', before_request_hooks: [{ type: 'transformer', checks: [{ id: 'test.seen' }] }] }).message).to.include('.type');
      expect(refused({ provider: 'openai', before_request_hooks: { checks: [] } }).message).to.include('must be an array');
    });

    it('shorthand elements that are not guardrails', () => {
      expect(refused({ provider: 'openai', input_guardrails: [{ deny: true }] }).message).to.include('names no check');
      expect(refused({ provider: 'openai', input_guardrails: [{ 'test.seen': true }] }).message).to.include('must be an object');
      expect(refused({ provider: 'openai', input_guardrails: [42] }).message).to.include('must be an object');
      expect(refused({ provider: 'openai', output_guardrails: { 'test.seen': {} } }).message).to.include('must be an array');
      expect(refused({ provider: 'openai', input_guardrails: [{ 'test.seen': {}, deny: 1 }] }).message).to.include('config.input_guardrails[0].deny');
      expect(refused({ provider: 'openai', input_guardrails: [{ 'test.seen': { fail_on_error: 'no' } }] }).message).to.include(
        'fail_on_error: must be true or false',
      );
    });
  });

  describe('parameters Portkey ignores', () => {
    const collect = (strictParameters = false) => {
      const ignored: IgnoredParameters[] = [];
      return { ignored, options: { strictParameters, onIgnored: (i: IgnoredParameters) => void ignored.push(i) } satisfies ResolveOptions };
    };

    it('`not: false` is accepted on every check, quietly, strict or not (it asks for nothing)', () => {
      for (const strictParameters of [false, true]) {
        const { ignored, options } = collect(strictParameters);
        const set = parse(
          {
            provider: 'openai',
            input_guardrails: [{ 'test.contains': { words: ['x'], not: false } }],
            after_request_hooks: [{ checks: [{ id: 'test.upper', parameters: { not: false } }] }],
          },
          'config',
          options,
        );
        expect(set.input[0]!.checks[0]!.params).to.deep.equal({ words: ['x'], operator: 'none' });
        expect(set.output[0]!.checks[0]!.params).to.deep.equal({});
        expect(ignored).to.deep.equal([]);
      }
    });

    it('unknown parameters are left out of what the check gets and reported, with their paths', () => {
      const { ignored, options } = collect();
      const set = parse(
        { provider: 'openai', input_guardrails: [{ 'test.minLength': { min: 2, max: 9, not: true }, 'test.nested': { rule: { limit: 1, unit: 'x' } } }] },
        'config',
        options,
      );
      expect(set.input[0]!.checks.map((c) => c.params)).to.deep.equal([{ min: 2 }, { rule: { limit: 1 } }]);
      expect(ignored).to.deep.equal([
        { check: 'test.minLength', where: 'config.input_guardrails[0]["test.minLength"]', parameters: ['max', 'not'] },
        { check: 'test.nested', where: 'config.input_guardrails[0]["test.nested"]', parameters: ['rule.unit'] },
      ]);
    });

    it('with strictParameters, any parameter the check does not define is a 400 naming it (`not: true` included)', () => {
      const { options } = collect(true);
      const notTrue = refused({ provider: 'openai', input_guardrails: [{ 'test.contains': { words: ['x'], not: true } }] }, 'config', options);
      expect(notTrue.message).to.include('invalid parameters for check test.contains');
      expect(notTrue.message).to.match(/"not"/);
      const nested = refused({ provider: 'openai', input_guardrails: [{ 'test.nested': { rule: { limit: 1, unit: 'x' } } }] }, 'config', options);
      expect(nested.message).to.include('config.input_guardrails[0]["test.nested"].rule');
      expect(nested.message).to.match(/"unit"/);
    });
  });

  describe('close matches', () => {
    const loaded = ['default.regexMatch', 'default.contains', 'default.wordCount', 'pii.detect', 'acme.regexMatch'];
    it('finds the same name in another case or namespace, or a few edits away', () => {
      expect(closeMatches('default.regexmatch', loaded)[0]).to.equal('default.regexMatch');
      expect(closeMatches('other.wordCount', loaded)).to.deep.equal(['default.wordCount']);
      expect(closeMatches('default.contain', loaded)).to.deep.equal(['default.contains']);
      expect(closeMatches('default.regexMatch2', loaded)).to.include('default.regexMatch');
      expect(closeMatches('zzz.qqq', loaded)).to.deep.equal([]);
    });
    it('says when nothing is loaded', () => {
      expect(unknownCheckMessage('default.x', [])).to.include('no guardrail checks are loaded');
    });
  });
});
