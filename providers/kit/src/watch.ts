import type { SSEEvent } from '@waygate/core';

/** What a stream's observer is told: each event as it is relayed, and once, the end. */
export interface StreamWatcher {
  /** The stream's relay began (its iterator was asked for). */
  start?(): void;
  /** An event, before the client gets it. */
  event?(e: SSEEvent): void;
  /** The stream ended, however it ended: done, failed, or left by the client. Called once. */
  end(): void;
}

/**
 * Relays a stream unchanged, telling `w` of each event and of the end. An iterator of its own: one
 * callback per event, no generator suspension (streams are the hot path of metrics, logs and traces).
 */
export function watchStream(inner: AsyncIterable<SSEEvent>, w: StreamWatcher): AsyncIterable<SSEEvent> {
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    w.end();
  };
  const seen = (r: IteratorResult<SSEEvent>) => {
    if (r.done) end();
    else w.event?.(r.value);
    return r;
  };
  const failed = (err: unknown) => {
    end();
    throw err;
  };
  return {
    [Symbol.asyncIterator]: () => {
      const it = inner[Symbol.asyncIterator]();
      w.start?.();
      return {
        next: () => it.next().then(seen, failed),
        return: (value?: unknown) => {
          end();
          return it.return ? it.return(value) : Promise.resolve({ done: true as const, value: undefined });
        },
      };
    },
  };
}
