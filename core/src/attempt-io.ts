import type { RequestContext } from './context.js';
import { own } from './context.js';
import { AbortEmitter } from './abort.js';

/**
 * The I/O bookkeeping of one attempt: an abort signal that fires when the client leaves or the
 * attempt's timeout (time to first byte) runs out, and the upstream time it adds to the request.
 */
export class AttemptIO {
  /** Only an attempt with a timeout needs a signal of its own; otherwise the request's serves. */
  readonly #own: AbortEmitter | undefined;
  readonly #ctx: RequestContext;
  readonly #t0 = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  timedOut = false;

  constructor(ctx: RequestContext, timeoutMs: number | undefined) {
    this.#ctx = ctx;
    if (timeoutMs !== undefined) {
      const mine = (this.#own = new AbortEmitter());
      // A client that already left (during a beforeRequest plugin, say) gets no upstream call either.
      if (ctx.aborted) {
        mine.abort(ctx.abortEmitter.reason);
        return;
      }
      ctx.abortEmitter.once('abort', this.#onClientAbort);
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        mine.abort(new Error('request timeout'));
      }, timeoutMs);
    }
  }

  get signal(): AbortEmitter {
    return this.#own ?? this.#ctx.abortEmitter;
  }

  readonly #onClientAbort = (reason: unknown) => this.#own!.abort(reason);

  /** The first byte (or event) arrived: the time-to-first-byte bound no longer applies. */
  firstByte(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.firstByte();
    if (this.#own) this.#ctx.abortEmitter.removeListener('abort', this.#onClientAbort);
    own(this.#ctx).upstreamMs += performance.now() - this.#t0;
  }
}
