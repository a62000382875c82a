import { expect } from 'chai';
import { route } from '../src/dispatch.js';
import { GatewayResponse } from '../src/response.js';
import { OnErrorStage } from '../src/hooks.js';
import { ErrorCode, GatewayError, badRequest } from '../src/errors.js';
import { kernelOwned } from '../src/testing/index.js';
import type { Kernel } from '../src/kernel.js';
import type { ErrorDecision } from '../src/contracts.js';
import type { RequestContext } from '../src/context.js';
import { HANG, Loopback, loopKernel, ordered, rejection, request } from './support/loopback.js';

describe('dispatch: the attempt loop', () => {
  let up: Loopback;
  let kernel: Kernel;
  before(async () => {
    up = await Loopback.start();
  });
  after(() => up.close());
  beforeEach(() => {
    up.reset();
    kernel = loopKernel();
  });
  afterEach(() => kernel.close());

  /** Taps onError with a policy; records what it saw (target name, retries on it) at each failed attempt. */
  function policy(decide: (err: GatewayError, ctx: RequestContext) => ErrorDecision | undefined): string[] {
    const seen: string[] = [];
    kernel.apiFor('test-policy').hooks.onError.tap(OnErrorStage.NORMAL, (err, ctx) => {
      seen.push(`${ctx.target!.node.name}#${ctx.retryCount} ${err.status}`);
      return decide(err, ctx);
    });
    return seen;
  }

  it('answers with the first target when it succeeds, asking no policy', async () => {
    const seen = policy(() => ({ action: 'next' }));
    const ctx = request(ordered(up.leaf('a'), up.leaf('b')));
    const res = await route(kernel, ctx);
    expect(res.status).to.equal(200);
    expect(up.names()).to.deep.equal(['a']);
    expect(seen).to.deep.equal([]);
    expect(ctx.attempts.map((a) => [a.target, a.provider, a.status])).to.deep.equal([['config.targets[0]', 'loop', 200]]);
  });

  it('retries on a retry decision, counting retries per target and resetting the count on the next one', async () => {
    up.reply('a', 500).reply('b', 503, 200);
    const seen = policy((_err, ctx) => (ctx.retryCount < 1 ? { action: 'retry', delayMs: 1 } : { action: 'next' }));
    const ctx = request(ordered(up.leaf('a'), up.leaf('b')));
    const res = await route(kernel, ctx);
    expect(res.status).to.equal(200);
    expect((res.body as any).model).to.equal('b');
    expect(up.names()).to.deep.equal(['a', 'a', 'b', 'b']);
    expect(seen).to.deep.equal(['a#0 500', 'a#1 500', 'b#0 503']);
    expect(ctx.retryCount, 'retries on the target that answered').to.equal(1);
    expect(ctx.totalRetries).to.equal(2);
    expect(ctx.attempts.map((a) => a.status)).to.deep.equal([500, 500, 503, 200]);
    expect(ctx.targetIndex).to.equal(1);
  });

  it('moves to the next planned target on a next decision', async () => {
    up.reply('a', 502).reply('b', 429);
    policy(() => ({ action: 'next' }));
    const ctx = request(ordered(up.leaf('a'), up.leaf('b'), up.leaf('c')));
    const res = await route(kernel, ctx);
    expect(res.status).to.equal(200);
    expect(up.names()).to.deep.equal(['a', 'b', 'c']);
    expect(ctx.target?.path).to.equal('config.targets[2]');
    expect(ctx.lastError?.status, 'the last failure stays on record').to.equal(429);
  });

  it('fails with the last error when next is asked past the last target', async () => {
    up.reply('a', 500).reply('b', 503);
    policy(() => ({ action: 'next' }));
    const err = await rejection(route(kernel, request(ordered(up.leaf('a'), up.leaf('b')))));
    expect(err).to.include({ status: 503, code: ErrorCode.UPSTREAM_ERROR });
    expect(up.names()).to.deep.equal(['a', 'b']);
  });

  it('fails on a fail decision, with the attempt error or the one the policy gives', async () => {
    up.reply('a', 500);
    policy(() => ({ action: 'fail' }));
    const plain = await rejection(route(kernel, request(ordered(up.leaf('a'), up.leaf('b')))));
    expect(plain).to.include({ status: 500, code: ErrorCode.UPSTREAM_ERROR });
    expect(up.names()).to.deep.equal(['a']);

    await kernel.close();
    kernel = loopKernel();
    policy((err) => ({ action: 'fail', error: new GatewayError('policy_said_no', 429, `not now: ${err.status}`) }));
    const own = await rejection(route(kernel, request(ordered(up.leaf('a'), up.leaf('b')))));
    expect(own).to.include({ status: 429, code: 'policy_said_no', message: 'not now: 500' });
    expect(up.names()).to.deep.equal(['a', 'a']);
  });

  it("fails when no policy claims the attempt (the core's default)", async () => {
    up.reply('a', 500);
    const err = await rejection(route(kernel, request(ordered(up.leaf('a'), up.leaf('b')))));
    expect(err.status).to.equal(500);
    expect(up.names()).to.deep.equal(['a']);
  });

  it("answers with the policy's response on a respond decision", async () => {
    up.reply('a', 500);
    policy(() => ({ action: 'respond', response: GatewayResponse.json(200, { from: 'policy' }) }));
    const res = await route(kernel, request(ordered(up.leaf('a'), up.leaf('b'))));
    expect(res.body).to.deep.equal({ from: 'policy' });
    expect(up.names()).to.deep.equal(['a']);
  });

  it('stops a policy that retries forever after MAX_ATTEMPTS (50), with the last error', async () => {
    up.reply('a', 500);
    const seen = policy(() => ({ action: 'retry' }));
    const ctx = request(ordered(up.leaf('a')));
    const err = await rejection(route(kernel, ctx));
    expect(err).to.include({ status: 500, code: ErrorCode.UPSTREAM_ERROR });
    expect(up.hits).to.have.length(50);
    expect(ctx.attempts).to.have.length(50);
    expect(seen).to.have.length(50);
    expect(ctx.totalRetries).to.equal(50);
  });

  it("does not retry an error that is not the upstream's (a 400 from build()), nor ask the policy", async () => {
    await kernel.close();
    kernel = loopKernel({
      build: () => {
        throw badRequest(ErrorCode.INVALID_REQUEST, 'messages must not be empty', 'messages');
      },
    });
    const seen = policy(() => ({ action: 'retry' }));
    const ctx = request(ordered(up.leaf('a'), up.leaf('b')));
    const err = await rejection(route(kernel, ctx));
    expect(err).to.include({ status: 400, code: ErrorCode.INVALID_REQUEST, param: 'messages' });
    expect(seen).to.deep.equal([]);
    expect(up.hits).to.have.length(0);
    expect(ctx.attempts.map((a) => a.error)).to.deep.equal([ErrorCode.INVALID_REQUEST]);
  });

  it('passes a retryable error from an adapter (its mapError) to the policy', async () => {
    await kernel.close();
    kernel = loopKernel({ mapError: (status) => new GatewayError('overloaded', status, 'busy', { retryable: true }) });
    up.reply('a', 529);
    const seen = policy(() => ({ action: 'next' }));
    const res = await route(kernel, request(ordered(up.leaf('a'), up.leaf('b'))));
    expect(res.status).to.equal(200);
    expect(seen).to.deep.equal(['a#0 529']);
  });

  describe('the deadline', () => {
    it('is a 408 deadline_exceeded naming the attempts when an attempt runs past it', async () => {
      up.reply('a', HANG);
      const seen = policy(() => ({ action: 'next' }));
      const ctx = request(ordered(up.leaf('a'), up.leaf('b')));
      kernelOwned(ctx).deadlineAt = performance.now() + 50;
      const err = await rejection(route(kernel, ctx));
      expect(err).to.include({ status: 408, code: ErrorCode.DEADLINE_EXCEEDED, type: 'timeout_error' });
      expect(err.message).to.equal("The request's deadline passed after 1 attempt(s)");
      expect((err.cause as GatewayError).code, 'the cut attempt is the cause').to.equal(ErrorCode.UPSTREAM_TIMEOUT);
      expect(seen, "the deadline's failure is not the target's: no fallback is asked for").to.deep.equal([]);
      expect(up.names()).to.deep.equal(['a']);
    });

    it('does not start a wait the deadline would cut short', async () => {
      up.reply('a', 500);
      policy(() => ({ action: 'retry', delayMs: 600_000 }));
      const ctx = request(ordered(up.leaf('a')));
      kernelOwned(ctx).deadlineAt = performance.now() + 300_000;
      const err = await rejection(route(kernel, ctx));
      expect(err).to.include({ status: 408, code: ErrorCode.DEADLINE_EXCEEDED });
      expect(err.message).to.match(/after 1 attempt\(s\)/);
      expect((err.cause as GatewayError).status).to.equal(500);
      expect(up.names()).to.deep.equal(['a']);
    });

    it('makes no attempt once it has passed', async () => {
      const ctx = request(ordered(up.leaf('a')));
      kernelOwned(ctx).deadlineAt = performance.now() - 1;
      const err = await rejection(route(kernel, ctx));
      expect(err).to.include({ status: 408, code: ErrorCode.DEADLINE_EXCEEDED });
      expect(err.message).to.match(/after 0 attempt\(s\)/);
      expect(up.hits).to.have.length(0);
    });
  });

  describe('the client going away', () => {
    it('is a 499 when it happens while a retry waits', async () => {
      up.reply('a', 500);
      const seen = policy((_err, ctx) => {
        setImmediate(() => ctx.abort(new Error('client left')));
        return { action: 'retry', delayMs: 600_000 };
      });
      const err = await rejection(route(kernel, request(ordered(up.leaf('a')))));
      expect(err).to.include({ status: 499, code: ErrorCode.CLIENT_CLOSED });
      expect(up.names()).to.deep.equal(['a']);
      expect(seen).to.have.length(1);
    });

    it('is a 499 when it happens during an attempt, and no policy is asked', async () => {
      up.reply('a', (_req, _res) => ctx.abort(new Error('client left')));
      const seen = policy(() => ({ action: 'next' }));
      const ctx = request(ordered(up.leaf('a'), up.leaf('b')));
      const err = await rejection(route(kernel, ctx));
      expect(err).to.include({ status: 499, code: ErrorCode.CLIENT_CLOSED });
      expect(seen).to.deep.equal([]);
      expect(up.names()).to.deep.equal(['a']);
    });
  });
});
