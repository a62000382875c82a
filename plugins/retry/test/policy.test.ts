import { expect } from 'chai';
import { ErrorCode, GatewayError } from '@waygate/core';
import type { ConfigNode, PlannedTarget, RetryConfig } from '@waygate/core';
import plugin, { RetryOptionsSchema, backoffDelay, createRetryPolicy, isRetryableFailure, parseRetryAfter } from '../src/index.js';
import type { RetryContext } from '../src/index.js';

function target(retry?: RetryConfig, extra: ConfigNode = {}): PlannedTarget {
  return { provider: 'openai', baseURL: 'http://127.0.0.1:9/v1', node: { provider: 'openai', ...(retry ? { retry } : {}), ...extra }, path: 'config' };
}

/** A stand-in for the request context: the kernel's fields are writable here, as the kernel writes them. */
type FakeCtx = { -readonly [K in keyof RetryContext]: RetryContext[K] };

function ctx(retry?: RetryConfig, over: Partial<FakeCtx> = {}): FakeCtx {
  const c: FakeCtx = {
    target: target(retry),
    retryCount: 0,
    retriesExhausted: false,
    markRetriesExhausted(exhausted: boolean) {
      c.retriesExhausted = exhausted;
    },
    ...over,
  };
  return c;
}

function upstreamError(status: number, headers: Record<string, string | string[]> = {}): GatewayError {
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, status, `status ${status}`, {
    retryable: [429, 500, 502, 503, 504].includes(status),
    upstream: { status, body: { error: { message: 'x' } }, headers },
  });
}

function connectionError(code: string): GatewayError {
  const status = code === ErrorCode.UPSTREAM_TIMEOUT ? 408 : 502;
  return new GatewayError(code, status, code, { retryable: true });
}

/** A policy whose jitter always draws `r`. */
const fixed = (r: number, extra: Parameters<typeof createRetryPolicy>[0] = {}) => createRetryPolicy(extra, { random: () => r });

describe('@waygate/retry', () => {
  it('has a manifest with its package name, version, kind policy and core range', () => {
    expect(plugin.manifest).to.include({ name: '@waygate/retry', kind: 'policy', core: '^1.0.0' });
    expect(plugin.manifest.version).to.match(/^\d+\.\d+\.\d+/);
  });

  describe('options', () => {
    it('defaults to 5 attempts, 200 ms base, 8 s cap, 60 s Retry-After cap', () => {
      expect(RetryOptionsSchema.parse({})).to.deep.equal({ maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 8000, maxRetryAfterMs: 60000 });
    });
    it('refuses unknown keys and out-of-range values', () => {
      expect(RetryOptionsSchema.safeParse({ maxAttemps: 3 }).success).to.equal(false);
      expect(RetryOptionsSchema.safeParse({ maxAttempts: -1 }).success).to.equal(false);
      expect(RetryOptionsSchema.safeParse({ baseDelayMs: 'x' }).success).to.equal(false);
    });
  });

  describe('when it stays out of the way', () => {
    it('returns undefined when the target has no retry policy', () => {
      expect(fixed(0.5)(upstreamError(503), ctx())).to.equal(undefined);
    });
    it('returns undefined when attempts is 0', () => {
      expect(fixed(0.5)(upstreamError(503), ctx({ attempts: 0 }))).to.equal(undefined);
    });
    it('returns undefined with no target at all', () => {
      expect(fixed(0.5)(upstreamError(503), ctx(undefined, { target: undefined }))).to.equal(undefined);
    });
  });

  describe('status codes', () => {
    for (const status of [429, 500, 502, 503, 504]) {
      it(`retries ${status} by default`, () => {
        expect(fixed(0.5)(upstreamError(status), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 100 });
      });
    }
    for (const status of [400, 401, 403, 404, 408, 409, 413, 422, 501, 505]) {
      it(`does not retry ${status} by default, and leaves retriesExhausted false`, () => {
        const c = ctx({ attempts: 3 });
        expect(fixed(0.5)(upstreamError(status), c)).to.equal(undefined);
        expect(c.retriesExhausted).to.equal(false);
      });
    }
    it('uses on_status_codes instead of the default list when given', () => {
      const policy = { attempts: 2, on_status_codes: [408, 529] };
      expect(fixed(0)(upstreamError(408), ctx(policy))).to.deep.equal({ action: 'retry', delayMs: 0 });
      expect(fixed(0)(upstreamError(529), ctx(policy))).to.deep.equal({ action: 'retry', delayMs: 0 });
      expect(fixed(0)(upstreamError(503), ctx(policy))).to.equal(undefined);
      expect(fixed(0)(upstreamError(429), ctx(policy))).to.equal(undefined);
    });
    it('an empty on_status_codes retries connection failures only', () => {
      const policy = { attempts: 2, on_status_codes: [] };
      expect(fixed(0)(upstreamError(503), ctx(policy))).to.equal(undefined);
      expect(fixed(0)(connectionError(ErrorCode.UPSTREAM_UNREACHABLE), ctx(policy))).to.deep.equal({ action: 'retry', delayMs: 0 });
    });
    it('reads the upstream status, not the status the gateway would answer with', () => {
      // A mapped error may answer 502 for an upstream 400: the upstream's status decides.
      const err = new GatewayError(ErrorCode.UPSTREAM_ERROR, 502, 'mapped', { upstream: { status: 400 } });
      expect(fixed(0)(err, ctx({ attempts: 2 }))).to.equal(undefined);
    });
  });

  describe('connection-level failures', () => {
    for (const code of [ErrorCode.UPSTREAM_UNREACHABLE, ErrorCode.UPSTREAM_TIMEOUT, ErrorCode.UPSTREAM_BAD_RESPONSE]) {
      it(`retries ${code} whatever on_status_codes says`, () => {
        expect(fixed(0.25)(connectionError(code), ctx({ attempts: 1, on_status_codes: [429] }))).to.deep.equal({ action: 'retry', delayMs: 50 });
      });
    }
    it('retries a malformed 200 answer (bad response with an upstream status)', () => {
      const err = new GatewayError(ErrorCode.UPSTREAM_BAD_RESPONSE, 502, 'not JSON', { retryable: true, upstream: { status: 200 } });
      expect(fixed(0)(err, ctx({ attempts: 1 }))).to.deep.equal({ action: 'retry', delayMs: 0 });
    });
    it('does not retry other gateway errors (a plugin error, a deadline)', () => {
      expect(fixed(0)(new GatewayError(ErrorCode.PLUGIN_ERROR, 500, 'x'), ctx({ attempts: 3 }))).to.equal(undefined);
      expect(fixed(0)(new GatewayError(ErrorCode.DEADLINE_EXCEEDED, 408, 'x'), ctx({ attempts: 3 }))).to.equal(undefined);
    });
    it('isRetryableFailure agrees', () => {
      expect(isRetryableFailure(connectionError(ErrorCode.UPSTREAM_TIMEOUT), [])).to.equal(true);
      expect(isRetryableFailure(upstreamError(503))).to.equal(true);
      expect(isRetryableFailure(upstreamError(400))).to.equal(false);
    });
  });

  describe('backoff with full jitter', () => {
    const opts = { baseDelayMs: 200, maxDelayMs: 8000 };
    it('doubles the ceiling per retry and caps it', () => {
      const top = (n: number) => backoffDelay(n, opts, () => 0.999999);
      expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).to.deep.equal([199, 399, 799, 1599, 3199, 6399, 7999, 7999]);
      expect(backoffDelay(3, opts, () => 0)).to.equal(0);
      expect(backoffDelay(2, opts, () => 0.5)).to.equal(400);
    });
    it('stays within [0, min(cap, base * 2^n)) over many draws and spreads over the range', () => {
      for (let n = 0; n <= 8; n++) {
        const ceiling = Math.min(8000, 200 * 2 ** n);
        let min = Infinity;
        let max = -Infinity;
        let sum = 0;
        const draws = 4000;
        for (let i = 0; i < draws; i++) {
          const d = backoffDelay(n, opts);
          if (!Number.isInteger(d) || d < 0 || d >= ceiling) expect.fail(`draw ${d} for retry ${n} is outside [0, ${ceiling})`);
          min = Math.min(min, d);
          max = Math.max(max, d);
          sum += d;
        }
        // Full jitter: the draws cover the whole range, centred on half the ceiling.
        expect(min).to.be.below(ceiling * 0.05);
        expect(max).to.be.above(ceiling * 0.95);
        expect(sum / draws).to.be.closeTo(ceiling / 2, ceiling * 0.05);
      }
    });
    it('the policy uses the retry count of the current target', () => {
      const decide = fixed(0.5);
      expect(decide(upstreamError(503), ctx({ attempts: 5 }, { retryCount: 0 }))).to.deep.equal({ action: 'retry', delayMs: 100 });
      expect(decide(upstreamError(503), ctx({ attempts: 5 }, { retryCount: 3 }))).to.deep.equal({ action: 'retry', delayMs: 800 });
    });
    it('honours baseDelayMs and maxDelayMs options', () => {
      const decide = fixed(0.5, { baseDelayMs: 1000, maxDelayMs: 1500 });
      expect(decide(upstreamError(503), ctx({ attempts: 5 }, { retryCount: 0 }))).to.deep.equal({ action: 'retry', delayMs: 500 });
      expect(decide(upstreamError(503), ctx({ attempts: 5 }, { retryCount: 4 }))).to.deep.equal({ action: 'retry', delayMs: 750 });
    });
  });

  describe('Retry-After', () => {
    const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
    it('parses retry-after-ms, x-ms-retry-after-ms and retry-after (seconds or an HTTP date)', () => {
      expect(parseRetryAfter({ 'retry-after-ms': '1500' }, NOW)).to.equal(1500);
      expect(parseRetryAfter({ 'retry-after-ms': '12.3' }, NOW)).to.equal(13);
      expect(parseRetryAfter({ 'x-ms-retry-after-ms': '250' }, NOW)).to.equal(250);
      expect(parseRetryAfter({ 'retry-after': '7' }, NOW)).to.equal(7000);
      expect(parseRetryAfter({ 'retry-after': '0.5' }, NOW)).to.equal(500);
      expect(parseRetryAfter({ 'retry-after': new Date(NOW + 3000).toUTCString() }, NOW)).to.equal(3000);
      expect(parseRetryAfter({ 'retry-after': new Date(NOW - 3000).toUTCString() }, NOW)).to.equal(0);
    });
    it('prefers retry-after-ms, then x-ms-retry-after-ms, then retry-after', () => {
      expect(parseRetryAfter({ 'retry-after': '9', 'x-ms-retry-after-ms': '20', 'retry-after-ms': '10' }, NOW)).to.equal(10);
      expect(parseRetryAfter({ 'retry-after': '9', 'x-ms-retry-after-ms': '20' }, NOW)).to.equal(20);
    });
    it('ignores absent, empty and garbage values, takes the first of a repeated header, and any case', () => {
      expect(parseRetryAfter(undefined, NOW)).to.equal(undefined);
      expect(parseRetryAfter({}, NOW)).to.equal(undefined);
      expect(parseRetryAfter({ 'retry-after': '' }, NOW)).to.equal(undefined);
      expect(parseRetryAfter({ 'retry-after': 'soon' }, NOW)).to.equal(undefined);
      expect(parseRetryAfter({ 'retry-after': '-5' }, NOW)).to.equal(undefined);
      expect(parseRetryAfter({ 'retry-after': '2030' }, NOW)).to.equal(2030000);
      expect(parseRetryAfter({ 'retry-after': '1e3' }, NOW)).to.equal(undefined);
      expect(parseRetryAfter({ 'retry-after-ms': 'abc', 'retry-after': '2' }, NOW)).to.equal(2000);
      expect(parseRetryAfter({ 'retry-after': ['3', '4'] }, NOW)).to.equal(3000);
      expect(parseRetryAfter({ 'Retry-After': '1' }, NOW)).to.equal(1000);
    });

    const decideAt = () => createRetryPolicy({}, { random: () => 0.5, now: () => NOW });
    it('waits what retry-after-ms says instead of the backoff', () => {
      expect(decideAt()(upstreamError(429, { 'retry-after-ms': '1234' }), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 1234 });
    });
    it('waits what x-ms-retry-after-ms says', () => {
      expect(decideAt()(upstreamError(503, { 'x-ms-retry-after-ms': '321' }), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 321 });
    });
    it('waits what retry-after says, in seconds', () => {
      expect(decideAt()(upstreamError(429, { 'retry-after': '2' }), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 2000 });
    });
    it('waits until the HTTP date retry-after names', () => {
      const at = new Date(NOW + 5000).toUTCString();
      expect(decideAt()(upstreamError(503, { 'retry-after': at }), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 5000 });
    });
    it('falls back to the relayed error headers when the upstream info carries none', () => {
      const err = new GatewayError(ErrorCode.UPSTREAM_ERROR, 429, 'x', { upstream: { status: 429 }, headers: { 'retry-after': '1' } });
      expect(decideAt()(err, ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 1000 });
    });
    it('ignores the headers when use_retry_after_header is false', () => {
      expect(decideAt()(upstreamError(429, { 'retry-after': '2' }), ctx({ attempts: 2, use_retry_after_header: false }))).to.deep.equal({
        action: 'retry',
        delayMs: 100,
      });
    });
    it('a wait longer than maxRetryAfterMs (60 s) means no retry, reported as exhausted', () => {
      const c = ctx({ attempts: 3 });
      expect(decideAt()(upstreamError(429, { 'retry-after': '61' }), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(true);
      const d = ctx({ attempts: 3 });
      expect(decideAt()(upstreamError(429, { 'retry-after': '60' }), d)).to.deep.equal({ action: 'retry', delayMs: 60000 });
      const date = ctx({ attempts: 3 });
      expect(decideAt()(upstreamError(503, { 'retry-after': new Date(NOW + 120_000).toUTCString() }), date)).to.equal(undefined);
    });
    it('the Retry-After cap is an option', () => {
      const decide = createRetryPolicy({ maxRetryAfterMs: 1000 }, { random: () => 0.5, now: () => NOW });
      expect(decide(upstreamError(429, { 'retry-after-ms': '1001' }), ctx({ attempts: 2 }))).to.equal(undefined);
      expect(decide(upstreamError(429, { 'retry-after-ms': '1000' }), ctx({ attempts: 2 }))).to.deep.equal({ action: 'retry', delayMs: 1000 });
    });
    it('a Retry-After on a non-retryable status does not make it retryable', () => {
      expect(decideAt()(upstreamError(400, { 'retry-after': '1' }), ctx({ attempts: 2 }))).to.equal(undefined);
    });
  });

  describe('attempts and exhaustion', () => {
    it('retries exactly `attempts` times, then sets retriesExhausted and defers', () => {
      const decide = fixed(0);
      const c = ctx({ attempts: 3 });
      const decisions = [];
      for (let i = 0; i < 5; i++) {
        const d = decide(upstreamError(503), c);
        decisions.push(d?.action ?? 'defer');
        if (d?.action === 'retry') c.retryCount++;
        else break;
      }
      expect(decisions).to.deep.equal(['retry', 'retry', 'retry', 'defer']);
      expect(c.retryCount).to.equal(3);
      expect(c.retriesExhausted).to.equal(true);
    });
    it('caps attempts at 5 by default', () => {
      const decide = fixed(0);
      expect(decide(upstreamError(503), ctx({ attempts: 50 }, { retryCount: 4 }))?.action).to.equal('retry');
      const c = ctx({ attempts: 50 }, { retryCount: 5 });
      expect(decide(upstreamError(503), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(true);
    });
    it('the cap is the maxAttempts option', () => {
      const decide = fixed(0, { maxAttempts: 2 });
      expect(decide(upstreamError(503), ctx({ attempts: 4 }, { retryCount: 1 }))?.action).to.equal('retry');
      expect(decide(upstreamError(503), ctx({ attempts: 4 }, { retryCount: 2 }))).to.equal(undefined);
      expect(fixed(0, { maxAttempts: 0 })(upstreamError(503), ctx({ attempts: 4 }))).to.equal(undefined);
    });
    it('a non-retryable failure after some retries ends it without setting retriesExhausted', () => {
      const c = ctx({ attempts: 3 }, { retryCount: 1 });
      expect(fixed(0)(upstreamError(400), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(false);
    });
    it('clears retriesExhausted on the first failure of a new target', () => {
      const c = ctx({ attempts: 1 }, { retryCount: 1 });
      fixed(0)(upstreamError(503), c);
      expect(c.retriesExhausted).to.equal(true);
      // The fallback moved to the next target (the kernel resets retryCount), which fails with a 400.
      c.retryCount = 0;
      c.target = target({ attempts: 1 });
      expect(fixed(0)(upstreamError(400), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(false);
      // ...and a new target without a retry policy clears it too.
      c.retriesExhausted = true;
      c.target = target();
      expect(fixed(0)(upstreamError(503), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(false);
    });
    it('ignores a nonsensical attempts value', () => {
      expect(fixed(0)(upstreamError(503), ctx({ attempts: -2 }))).to.equal(undefined);
      expect(fixed(0)(upstreamError(503), ctx({ attempts: 'x' as unknown as number }))).to.equal(undefined);
    });
  });

  describe('deadline', () => {
    const plan = (n: number) => ({ targets: Array.from({ length: n }, () => target({ attempts: 2 })) });
    const decide = createRetryPolicy({}, { random: () => 0.5, monotonic: () => 1000 });
    it('defers a wait that would outlast the deadline when a later target can be tried now', () => {
      const c = ctx({ attempts: 2 }, { deadlineAt: 1050, plan: plan(2), targetIndex: 0 });
      expect(decide(upstreamError(503), c)).to.equal(undefined);
      expect(c.retriesExhausted).to.equal(false);
    });
    it('keeps the retry on the last target: the kernel then answers deadline_exceeded without waiting', () => {
      expect(decide(upstreamError(503), ctx({ attempts: 2 }, { deadlineAt: 1050, plan: plan(2), targetIndex: 1 }))).to.deep.equal({
        action: 'retry',
        delayMs: 100,
      });
      expect(decide(upstreamError(503), ctx({ attempts: 2 }, { deadlineAt: 1050 }))).to.deep.equal({ action: 'retry', delayMs: 100 });
    });
    it('a wait that fits in the deadline is made, and a Retry-After wait is measured the same way', () => {
      expect(decide(upstreamError(503), ctx({ attempts: 2 }, { deadlineAt: 1200, plan: plan(2), targetIndex: 0 }))).to.deep.equal({
        action: 'retry',
        delayMs: 100,
      });
      const err = upstreamError(429, { 'retry-after-ms': '2000' });
      expect(decide(err, ctx({ attempts: 2 }, { deadlineAt: 2500, plan: plan(2), targetIndex: 0 }))).to.equal(undefined);
      expect(decide(err, ctx({ attempts: 2 }, { deadlineAt: 3500, plan: plan(2), targetIndex: 0 }))).to.deep.equal({ action: 'retry', delayMs: 2000 });
    });
  });
});
