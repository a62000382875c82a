import { EventEmitter } from 'node:events';

/**
 * A cheap abort signal for the hot path: an EventEmitter with `aborted` and `reason`, which undici
 * accepts as a request signal. Node's AbortController is a DOM EventTarget and costs several times
 * more to create and listen to; it is made only when a plugin asks for `ctx.signal`.
 */
export class AbortEmitter extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new Error('aborted');
    this.emit('abort', this.reason);
  }
}
