import { expect } from 'chai';
import { ErrorCode, GatewayError, GatewayResponse } from '@waygate/core';
import type { PlannedTarget, RequestContext, Target } from '@waygate/core';
import { kernelOwned, makeCtx, newKernel } from '@waygate/core/testing';
import plugin, { BreakerOptionsSchema, CircuitBreaker, MemoryStore, breakerOptions, countsAsFailure } from '../src/index.js';
import type { BreakerOptionsInput, StateChange } from '../src/index.js';

/** A clock the test moves by hand. */
class FakeClock {
  t = 1_000_000;
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

function store(opts: BreakerOptionsInput = {}, clock = new FakeClock()) {
  const changes: StateChange[] = [];
  const s = new MemoryStore(breakerOptions(opts), { now: clock.now, onChange: (c) => changes.push(c) });
  return { s, clock, changes };
}

function fail(s: MemoryStore, key: string, n: number): void {
  for (let i = 0; i < n; i++) s.record(key, true);
}
function succeed(s: MemoryStore, key: string, n: number): void {
  for (let i = 0; i < n; i++) s.record(key, false);
}

function upstreamError(status: number): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `status ${status}`, { retryable: status === 429 || status >= 500, upstream: { status } });
}

describe('@waygate/circuit-breaker', () => {
  it('has a manifest with its package name, version, kind policy and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/circuit-breaker', kind: 'policy', core: '^1.0.0' });
    expect(plugin.manifest.version).to.match(/^\d+\.\d+\.\d+/);
  });

  describe('options', () => {
    it('has the documented defaults', () => {
      expect(BreakerOptionsSchema.parse({})).to.deep.equal({
        failureThreshold: 5,
        errorRatio: 0.5,
        windowMs: 30000,
        minRequests: 10,
        cooldownMs: 30000,
        halfOpenProbes: 1,
        probeTimeoutMs: 60000,
        store: 'memory',
        keyPrefix: 'waygate:cb:',
        redisConnectTimeoutMs: 2000,
        redisCommandTimeoutMs: 1000,
        syncIntervalMs: 1000,
        maxTargets: 10000,
      });
    });
    it('refuses bad values and unknown keys', () => {
      for (const bad of [
        { errorRatio: 1.5 },
        { errorRatio: -0.1 },
        { failureThreshold: 0 },
        { store: 'disk' },
        { cooldown: 5 },
        { halfOpenProbes: 0 },
        { redisCommandTimeoutMs: 0 },
      ]) {
        expect(BreakerOptionsSchema.safeParse(bad).success, JSON.stringify(bad)).to.equal(false);
      }
    });
  });

  describe('what counts as a failure', () => {
    for (const status of [429, 408, 500, 502, 503, 504, 529]) {
      it(`an upstream ${status} counts`, () => expect(countsAsFailure(upstreamError(status))).to.equal(true));
    }
    for (const status of [400, 401, 403, 404, 409, 413, 422]) {
      it(`an upstream ${status} is the caller's fault and does not count`, () => expect(countsAsFailure(upstreamError(status))).to.equal(false));
    }
    for (const code of [ErrorCode.UPSTREAM_UNREACHABLE, ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_BAD_RESPONSE]) {
      it(`a connection-level failure (${code}) counts`, () => {
        expect(countsAsFailure(new GatewayError(code, code === ErrorCode.UPSTREAM_TIMEOUT ? 408 : 502, code, { retryable: true }))).to.equal(true);
      });
    }
    it('an error event in place of a 2xx answer counts; a non-retryable gateway error does not', () => {
      const event = new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, 'error event', { retryable: true, upstream: { status: 200 } });
      expect(countsAsFailure(event)).to.equal(true);
      expect(countsAsFailure(new GatewayError(ErrorCode.PLUGIN_ERROR, 500, 'x'))).to.equal(false);
    });
  });

  describe('the state machine (memory store, fake clock)', () => {
    it('opens after failureThreshold consecutive failures and refuses the target', () => {
      const { s, changes } = store({ failureThreshold: 5 });
      fail(s, 'a', 4);
      expect(s.state('a')).to.equal('closed');
      expect(s.admit('a')).to.equal('pass');
      fail(s, 'a', 1);
      expect(s.state('a')).to.equal('open');
      expect(s.admit('a')).to.equal('deny');
      expect(s.admit('b')).to.equal('pass');
      expect(changes).to.deep.equal([{ key: 'a', from: 'closed', to: 'open', reason: '5 consecutive failures' }]);
    });

    it('a success resets the consecutive count', () => {
      const { s } = store({ failureThreshold: 3, minRequests: 1000 });
      fail(s, 'a', 2);
      succeed(s, 'a', 1);
      fail(s, 'a', 2);
      expect(s.state('a')).to.equal('closed');
      fail(s, 'a', 1);
      expect(s.state('a')).to.equal('open');
    });

    it('opens on the error ratio once the window holds minRequests', () => {
      const { s, changes } = store({ failureThreshold: 100, errorRatio: 0.5, minRequests: 10 });
      // 9 requests, 4 failed: under minRequests, so no verdict yet.
      for (let i = 0; i < 9; i++) s.record('a', i % 2 === 1);
      expect(s.state('a')).to.equal('closed');
      // The 10th fails: 5 of 10 = 0.5 ≥ errorRatio.
      s.record('a', true);
      expect(s.state('a')).to.equal('open');
      expect(changes[0]!.reason).to.equal('5 of 10 requests failed within 30000 ms');
    });

    it('does not open while the ratio stays under errorRatio', () => {
      const { s } = store({ failureThreshold: 100, errorRatio: 0.5, minRequests: 10 });
      for (let i = 0; i < 300; i++) s.record('a', i % 3 === 0);
      expect(s.state('a')).to.equal('closed');
    });

    it('does not trip on the ratio below minRequests even when everything fails (the threshold still can)', () => {
      const { s } = store({ failureThreshold: 100, errorRatio: 0.1, minRequests: 50 });
      fail(s, 'a', 49);
      expect(s.state('a')).to.equal('closed');
      fail(s, 'a', 1);
      expect(s.state('a')).to.equal('open');
    });

    it('only the last windowMs counts toward the ratio', () => {
      const { s, clock } = store({ failureThreshold: 100, errorRatio: 0.5, minRequests: 10, windowMs: 10_000 });
      fail(s, 'a', 6);
      succeed(s, 'a', 3);
      clock.advance(11_000);
      // The old failures slid out of the window: 1 failure of 10.
      succeed(s, 'a', 9);
      fail(s, 'a', 1);
      expect(s.state('a')).to.equal('closed');
    });

    it('open → half-open after cooldownMs → closed on a successful probe', () => {
      const { s, clock, changes } = store({ failureThreshold: 2, cooldownMs: 30_000 });
      fail(s, 'a', 2);
      clock.advance(29_999);
      expect(s.admit('a')).to.equal('deny');
      clock.advance(1);
      expect(s.state('a')).to.equal('half-open');
      expect(s.admit('a')).to.equal('probe');
      expect(s.admit('a')).to.equal('deny');
      s.record('a', false);
      expect(s.state('a')).to.equal('closed');
      expect(s.admit('a')).to.equal('pass');
      expect(s.admit('a')).to.equal('pass');
      expect(changes.map((c) => c.to)).to.deep.equal(['open', 'half-open', 'closed']);
      // Closing starts afresh: one failure does not re-open it.
      fail(s, 'a', 1);
      expect(s.state('a')).to.equal('closed');
    });

    it('a failed probe re-opens the circuit for another cooldown', () => {
      const { s, clock, changes } = store({ failureThreshold: 2, cooldownMs: 1_000 });
      fail(s, 'a', 2);
      clock.advance(1_000);
      expect(s.admit('a')).to.equal('probe');
      s.record('a', true);
      expect(s.state('a')).to.equal('open');
      expect(s.admit('a')).to.equal('deny');
      clock.advance(999);
      expect(s.admit('a')).to.equal('deny');
      clock.advance(1);
      expect(s.admit('a')).to.equal('probe');
      expect(changes.at(-2)).to.deep.include({ from: 'half-open', to: 'open', reason: 'a half-open probe failed' });
    });

    it('half-open admits only halfOpenProbes at a time; a released slot is admitted again', () => {
      const { s, clock } = store({ failureThreshold: 1, cooldownMs: 100, halfOpenProbes: 2 });
      fail(s, 'a', 1);
      clock.advance(100);
      expect([s.admit('a'), s.admit('a'), s.admit('a')]).to.deep.equal(['probe', 'probe', 'deny']);
      s.release('a');
      expect(s.admit('a')).to.equal('probe');
      expect(s.admit('a')).to.equal('deny');
    });

    it('a probe that never reports back stops holding its slot after probeTimeoutMs', () => {
      const { s, clock } = store({ failureThreshold: 1, cooldownMs: 100, probeTimeoutMs: 5_000 });
      fail(s, 'a', 1);
      clock.advance(100);
      expect(s.admit('a')).to.equal('probe');
      clock.advance(4_999);
      expect(s.admit('a')).to.equal('deny');
      clock.advance(1);
      expect(s.admit('a')).to.equal('probe');
    });

    it('outcomes of requests let through earlier do not change an open circuit', () => {
      const { s, clock } = store({ failureThreshold: 1, cooldownMs: 1_000 });
      fail(s, 'a', 1);
      clock.advance(500);
      succeed(s, 'a', 3);
      fail(s, 'a', 3);
      expect(s.state('a')).to.equal('open');
      clock.advance(500);
      expect(s.admit('a')).to.equal('probe');
    });

    it('keeps at most maxTargets targets, dropping the least recently used', () => {
      const { s } = store({ maxTargets: 3, failureThreshold: 1 });
      fail(s, 'a', 1);
      succeed(s, 'b', 1);
      succeed(s, 'c', 1);
      // Touch a, then add d: b is the least recently used.
      s.record('a', true);
      succeed(s, 'd', 1);
      expect(s.size).to.equal(3);
      expect(s.state('a')).to.equal('open');
    });

    it('keeps targets apart', () => {
      const { s } = store({ failureThreshold: 2 });
      fail(s, 'a', 1);
      fail(s, 'b', 1);
      expect([s.state('a'), s.state('b')]).to.deep.equal(['closed', 'closed']);
      fail(s, 'a', 1);
      expect([s.state('a'), s.state('b')]).to.deep.equal(['open', 'closed']);
    });
  });

  describe('CircuitBreaker (what the hooks call)', () => {
    const target = (apiKey = 'sk-1'): Target => ({
      provider: 'openai',
      baseURL: 'http://127.0.0.1:9/v1',
      apiKey,
      node: { provider: 'openai' },
      path: 'config',
    });
    /** A request on target `t`, as the attempt loop leaves it. */
    const ctx = (t?: Target): RequestContext => {
      const c = makeCtx(newKernel(), { provider: 'alpha' });
      if (t) kernelOwned(c).target = t as PlannedTarget;
      return c;
    };
    const ok = () => GatewayResponse.json(200, { ok: true }, {}, 'upstream');

    function breaker(opts: BreakerOptionsInput = {}) {
      const clock = new FakeClock();
      return { b: new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000, ...opts }, { now: clock.now }), clock };
    }

    it('counts 5xx and connection failures, not 4xx, against ctx.target', () => {
      const { b } = breaker();
      const t = target();
      for (let i = 0; i < 5; i++) b.onError(upstreamError(400), ctx(t));
      b.onError(upstreamError(401), ctx(t));
      expect(b.state(t)).to.equal('closed');
      b.onError(upstreamError(503), ctx(t));
      b.onError(new GatewayError(ErrorCode.UPSTREAM_UNREACHABLE, 502, 'refused', { retryable: true }), ctx(t));
      expect(b.state(t)).to.equal('open');
      expect(b.isOpen(t)).to.equal(true);
      expect(b.admit(t, ctx())).to.equal(false);
    });

    it('tells targets apart by provider, base URL and key', () => {
      const { b } = breaker();
      b.onError(upstreamError(503), ctx(target('sk-1')));
      b.onError(upstreamError(503), ctx(target('sk-1')));
      expect(b.admit(target('sk-1'))).to.equal(false);
      expect(b.admit(target('sk-2'))).to.equal(true);
      expect(b.admit({ ...target('sk-1'), baseURL: 'http://127.0.0.1:10/v1' })).to.equal(true);
    });

    it('counts a success only for an upstream answer under 400', () => {
      const { b } = breaker({ failureThreshold: 3 });
      const t = target();
      b.onError(upstreamError(503), ctx(t));
      b.onError(upstreamError(503), ctx(t));
      // A cached answer, an error answer and no target do not reset the count...
      b.afterResponse(GatewayResponse.json(200, {}, {}, 'cache'), ctx(t));
      b.afterResponse(GatewayResponse.json(503, {}, {}, 'error'), ctx(t));
      b.afterResponse(ok(), ctx());
      b.onError(upstreamError(503), ctx(t));
      expect(b.state(t)).to.equal('open');
      // ...an upstream success does.
      const u = target('sk-u');
      b.onError(upstreamError(503), ctx(u));
      b.onError(upstreamError(503), ctx(u));
      b.afterResponse(ok(), ctx(u));
      b.onError(upstreamError(503), ctx(u));
      expect(b.state(u)).to.equal('closed');
    });

    it('a probe planned but not tried is given back when the request ends', () => {
      const { b, clock } = breaker();
      const t = target();
      b.onError(upstreamError(503), ctx(t));
      b.onError(upstreamError(503), ctx(t));
      clock.advance(1_000);
      // Request 1 plans t as a probe but is answered by another target.
      const r1 = ctx();
      expect(b.admit(t, r1)).to.equal(true);
      expect(b.admit(t, ctx())).to.equal(false);
      (r1 as { target?: Target }).target = target('sk-other');
      b.afterResponse(ok(), r1);
      // The slot is free again: request 2 probes, and its success closes the circuit.
      const r2 = ctx();
      expect(b.admit(t, r2)).to.equal(true);
      (r2 as { target?: Target }).target = t;
      b.afterResponse(ok(), r2);
      expect(b.state(t)).to.equal('closed');
    });

    it('a probe that fails re-opens the circuit; a 4xx probe gives its slot back', () => {
      const { b, clock } = breaker();
      const t = target();
      b.onError(upstreamError(503), ctx(t));
      b.onError(upstreamError(503), ctx(t));
      clock.advance(1_000);
      const r1 = ctx();
      expect(b.admit(t, r1)).to.equal(true);
      (r1 as { target?: Target }).target = t;
      b.onError(upstreamError(400), r1);
      b.afterResponse(GatewayResponse.json(400, {}, {}, 'error'), r1);
      expect(b.state(t)).to.equal('half-open');
      const r2 = ctx();
      expect(b.admit(t, r2)).to.equal(true);
      (r2 as { target?: Target }).target = t;
      b.onError(upstreamError(502), r2);
      b.afterResponse(GatewayResponse.json(502, {}, {}, 'error'), r2);
      expect(b.state(t)).to.equal('open');
    });
  });
});
