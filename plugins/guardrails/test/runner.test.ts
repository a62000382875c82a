// Unit tests: how hooks and checks run (parallel or in order, mutator chaining, failures, timeouts)
// and the shape of their results.
import { expect } from 'chai';
import { makeCtx, newKernel, silent, use } from '@waygate/core/testing';
import type { Kernel } from '@waygate/core';
import { CHECKS, parseNodeRaw, requestView, resolveHooks, runHooks } from '../src/index.js';
import type { GuardrailCheck, HookSpec, RunEnv, Snapshot } from '../src/index.js';
import checksPlugin, { aborted, resetChecks, trace } from './checks-plugin.js';

describe('@waygate/guardrails: running hooks', () => {
  let kernel: Kernel;
  before(async () => {
    kernel = newKernel();
    await use(kernel, checksPlugin);
  });
  beforeEach(resetChecks);

  const hooks = (input_guardrails: unknown[], extra: Record<string, unknown> = {}): HookSpec[] =>
    resolveHooks(parseNodeRaw({ provider: 'alpha', input_guardrails, ...extra } as never, 'config'), kernel.registry<GuardrailCheck>(CHECKS))
      .input as HookSpec[];
  const full = (before_request_hooks: unknown[]): HookSpec[] =>
    resolveHooks(parseNodeRaw({ provider: 'alpha', before_request_hooks } as never, 'config'), kernel.registry<GuardrailCheck>(CHECKS))
      .input as HookSpec[];

  function env(text = 'hello', timeoutMs = 2000): { env: RunEnv; snap: Snapshot } {
    const body = { model: 'm', messages: [{ role: 'user', content: text }] };
    const ctx = makeCtx(kernel, { provider: 'alpha' }, { body });
    return {
      env: { ctx, side: 'input', view: requestView('chat.completions'), timeoutMs, logger: silent, egress: kernel.egress },
      snap: { json: body, text },
    };
  }

  it('runs the checks of a hook in parallel, each on the text the hook was given', async () => {
    const { env: e, snap } = env('x');
    const out = await runHooks(
      full([
        {
          checks: [
            { id: 'test.trace', parameters: { label: 'a' } },
            { id: 'test.trace', parameters: { label: 'b' } },
          ],
        },
      ]),
      snap,
      e,
    );
    expect(trace).to.deep.equal(['start:a:x', 'start:b:x', 'end:a', 'end:b']);
    expect(out.results[0]!.checks.map((c) => c.id)).to.deep.equal(['test.trace', 'test.trace']);
  });

  it("runs them one after another with `sequential: true`, each seeing the previous one's output", async () => {
    const { env: e, snap } = env('x');
    const out = await runHooks(
      full([
        {
          sequential: true,
          checks: [
            { id: 'test.trace', parameters: { label: 'a' } },
            { id: 'test.trace', parameters: { label: 'b' } },
          ],
        },
      ]),
      snap,
      e,
    );
    expect(trace).to.deep.equal(['start:a:x', 'end:a', 'start:b:x+a', 'end:b']);
    expect(out.snap.text).to.equal('x+a+b');
    expect((out.snap.json as any).messages[0].content).to.equal('x+a+b');
    expect(out.results[0]!.transformed).to.equal(true);
  });

  it('chains mutators: a mutator hook runs its checks in order on the previous output', async () => {
    const { env: e, snap } = env('hello world');
    const out = await runHooks(hooks([], { input_mutators: [{ 'test.upper': {}, 'test.replace': { from: 'HELLO', to: 'HI' } }] }), snap, e);
    expect(out.snap.text).to.equal('HI WORLD');
    expect(out.results[0]).to.include({ type: 'mutator', verdict: true, transformed: true });
    expect(out.results[0]!.checks.map((c) => c.transformed)).to.deep.equal([true, true]);
    // The snapshot it started from is untouched.
    expect(snap.text).to.equal('hello world');
    expect((snap.json as any).messages[0].content).to.equal('hello world');
  });

  it('runs hooks that change nothing together, and a mutating hook after the ones before it', async () => {
    const { env: e, snap } = env('q');
    const list = full([
      { id: 'h1', checks: [{ id: 'test.trace', parameters: { label: '1' } }] },
      { id: 'h2', checks: [{ id: 'test.trace', parameters: { label: '2' } }] },
      { id: 'm', type: 'mutator', checks: [{ id: 'test.upper' }] },
      { id: 'h3', checks: [{ id: 'test.trace', parameters: { label: '3' } }] },
    ]);
    const out = await runHooks(list, snap, e);
    // h1 and h2 overlap; the mutator sees the text they left (the last one's change wins: `q+2`); h3 sees its output.
    expect(trace).to.deep.equal(['start:1:q', 'start:2:q', 'end:1', 'end:2', 'start:3:Q+2', 'end:3']);
    expect(out.results.map((r) => r.id)).to.deep.equal(['h1', 'h2', 'm', 'h3']);
    expect(out.snap.text).to.equal('Q+2+3');
  });

  it('a check that throws fails its hook (fail closed), with the error recorded', async () => {
    const { env: e, snap } = env();
    const out = await runHooks(hooks([{ 'test.throws': { message: 'moderation is down' }, 'test.seen': {} }]), snap, e);
    const r = out.results[0]!;
    expect(r.verdict).to.equal(false);
    const check = r.checks[0]!;
    expect(check).to.include({ verdict: false, id: 'test.throws', fail_on_error: true, transformed: false });
    expect(check.error).to.deep.equal({ name: 'Error', message: 'moderation is down' });
    expect(r.checks[1]).to.include({ verdict: true, id: 'test.seen' });
  });

  it('... and lets it through when its config says fail_on_error: false', async () => {
    const { env: e, snap } = env();
    const out = await runHooks(hooks([{ 'test.throws': { fail_on_error: false } }]), snap, e);
    expect(out.results[0]!.verdict).to.equal(true);
    expect(out.results[0]!.checks[0]).to.include({ verdict: false, fail_on_error: false });
    expect(out.results[0]!.checks[0]!.error?.message).to.equal('the moderation service is down');
  });

  it('a check that does not finish in time fails with a TimeoutError, and its signal is aborted', async () => {
    const { env: e, snap } = env('x', 30);
    const out = await runHooks(hooks([{ 'test.hangs': {} }]), snap, e);
    expect(out.results[0]!.verdict).to.equal(false);
    expect(out.results[0]!.checks[0]!.error).to.deep.equal({ name: 'TimeoutError', message: 'the check did not finish within 30 ms' });
    expect(aborted).to.deep.equal(['test.hangs']);
  });

  it('a check that returns no verdict has failed', async () => {
    const { env: e, snap } = env();
    const out = await runHooks(hooks([{ 'test.noVerdict': {} }]), snap, e);
    expect(out.results[0]!.checks[0]!.error?.message).to.match(/instead of a result with a boolean verdict/);
  });

  it('a text a mutator returns cannot be written back where the endpoint has no text view: that check fails', async () => {
    const { env: e, snap } = env();
    const out = await runHooks(hooks([], { input_mutators: [{ 'test.upper': {} }] }), snap, { ...e, view: undefined });
    expect(out.results[0]!.verdict).to.equal(false);
    expect(out.results[0]!.checks[0]!.error?.message).to.match(/cannot be written back/);
    expect(out.snap).to.equal(snap);
  });

  it('a mutator may return a whole body (transformedJson)', async () => {
    const { env: e, snap } = env();
    const out = await runHooks(hooks([], { input_mutators: [{ 'test.tag': { field: 'user', value: 'u1' } }] }), snap, e);
    expect(out.snap.json).to.deep.include({ user: 'u1', model: 'm' });
    expect(out.snap.text).to.equal('hello');
  });

  it("results have Portkey's HookResult shape; deny is set when a deny hook failed; feedback follows the verdict", async () => {
    const { env: e, snap } = env('a secret');
    const out = await runHooks(
      hooks([
        {
          'test.contains': { words: ['secret'] },
          'test.seen': {},
          deny: true,
          on_fail: { feedback: { value: -1, weight: 2 } },
          on_success: { feedback: { value: 1 } },
        },
        { 'test.seen': {}, on_success: { feedback: { value: 1 } } },
      ]),
      snap,
      e,
    );
    const [denied, passed] = out.results;
    expect(Object.keys(denied!).sort()).to.deep.equal([
      'async',
      'checks',
      'created_at',
      'deny',
      'execution_time',
      'feedback',
      'id',
      'transformed',
      'type',
      'verdict',
    ]);
    expect(denied).to.include({ verdict: false, deny: true, async: false, type: 'guardrail', id: 'input_guardrail_0', transformed: false });
    expect(new Date(denied!.created_at).toISOString(), 'an ISO timestamp, as it is serialized').to.equal(denied!.created_at);
    expect(denied!.execution_time).to.be.a('number');
    expect(Object.keys(denied!.checks[0]!).sort()).to.deep.equal([
      'created_at',
      'data',
      'execution_time',
      'fail_on_error',
      'id',
      'transformed',
      'verdict',
    ]);
    expect(denied!.checks[0]!.data).to.deep.equal({ found: ['secret'] });
    expect(denied!.feedback).to.deep.equal({
      value: -1,
      weight: 2,
      metadata: { successfulChecks: 'test.seen', failedChecks: 'test.contains', erroredChecks: '' },
    });
    expect(passed).to.include({ verdict: true, deny: false });
    expect(passed!.feedback?.value).to.equal(1);
    const json = JSON.parse(JSON.stringify(out.results));
    expect(json[0].created_at).to.match(/^\d{4}-\d\d-\d\dT/);
  });
});
