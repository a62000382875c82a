import type { RequestContext } from './context.js';
import type { EndpointDefinition } from './contracts.js';
import type { Hooks } from './hooks.js';
import type { RoutePlan } from './types.js';
import type { AttemptServices } from './attempt.js';
import type { AbortEmitter } from './abort.js';
import type { GatewayResponse } from './response.js';
import { own } from './context.js';
import { ErrorCode, GatewayError } from './errors.js';
import { attempt } from './attempt.js';

/** A safety net against an onError policy that never stops: no request makes more attempts than this. */
const MAX_ATTEMPTS = 50;

/** What the attempt loop uses of the kernel. */
export interface DispatchServices extends AttemptServices {
  readonly hooks: Hooks;
  plan(ctx: RequestContext): RoutePlan;
  endpointOf(ctx: RequestContext): EndpointDefinition | undefined;
}

/**
 * The attempt loop: tries the plan's targets in order, and after each failed attempt asks `onError`
 * what to do (retry after a delay, move to the next target, fail, or answer), within the request's
 * deadline and while the client is still there.
 */
export async function route(k: DispatchServices, ctx: RequestContext): Promise<GatewayResponse> {
  const plan = k.plan(ctx);
  const def = k.endpointOf(ctx);
  const self = own(ctx);
  let index = 0;
  for (let n = 0; n < MAX_ATTEMPTS; n++) {
    if (ctx.deadlineAt !== undefined && performance.now() >= ctx.deadlineAt) throw deadlineExceeded(ctx);
    const target = plan.targets[index]!;
    self.target = target;
    self.targetIndex = index;
    const started = performance.now();
    const at = performance.timeOrigin + started;
    try {
      const res = await attempt(k, ctx, target, def);
      self.attempts.push({ target: target.path, provider: target.provider, status: res.status, at, ms: performance.now() - started });
      return res;
    } catch (thrown) {
      const err = GatewayError.from(thrown);
      self.lastError = err;
      self.attempts.push({ target: target.path, provider: target.provider, status: err.status, error: err.code, at, ms: performance.now() - started });
      if (ctx.aborted) throw clientClosed(ctx);
      // An attempt cut short by the request's deadline is the deadline's failure, not the target's.
      if (ctx.deadlineAt !== undefined && performance.now() >= ctx.deadlineAt - 1) throw deadlineExceeded(ctx);
      if (!err.upstream && !isAttemptError(err)) throw err;
      const decision = (await k.hooks.onError.promise(err, ctx)) ?? { action: 'fail' as const };
      if (decision.action === 'respond') return decision.response;
      if (decision.action === 'fail') throw decision.error ?? err;
      if (decision.action === 'next') {
        if (index + 1 >= plan.targets.length) throw err;
        index++;
        self.retryCount = 0;
        continue;
      }
      self.retryCount++;
      self.totalRetries++;
      if (decision.delayMs && decision.delayMs > 0) {
        // A wait that would outlast the deadline is not worth starting.
        if (ctx.deadlineAt !== undefined && performance.now() + decision.delayMs >= ctx.deadlineAt) throw deadlineExceeded(ctx);
        await sleep(decision.delayMs, ctx.abortEmitter);
      }
      if (ctx.aborted) throw clientClosed(ctx);
    }
  }
  throw ctx.lastError ?? new GatewayError(ErrorCode.INTERNAL, 500, 'attempt limit reached');
}

function isAttemptError(err: GatewayError): boolean {
  return (
    err.code === ErrorCode.UPSTREAM_UNREACHABLE ||
    err.code === ErrorCode.UPSTREAM_TIMEOUT ||
    err.code === ErrorCode.UPSTREAM_BAD_RESPONSE ||
    err.code === ErrorCode.UPSTREAM_ERROR ||
    err.retryable
  );
}

function deadlineExceeded(ctx: RequestContext): GatewayError {
  return new GatewayError(ErrorCode.DEADLINE_EXCEEDED, 408, `The request's deadline passed after ${ctx.attempts.length} attempt(s)`, {
    type: 'timeout_error',
    cause: ctx.lastError,
  });
}

/** Why the request stopped: what it was aborted with (the client left, or the gateway shuts down). */
function clientClosed(ctx: RequestContext): GatewayError {
  const why: unknown = ctx.abortEmitter.reason;
  return why instanceof GatewayError ? why : new GatewayError(ErrorCode.CLIENT_CLOSED, 499, 'The client closed the request');
}

function sleep(ms: number, signal: AbortEmitter): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeListener('abort', done);
      resolve();
    }
    signal.once('abort', done);
  });
}
