/**
 * Small helpers for tests of things that happen in the background (a replica's next poll, a
 * reconnection): waiting for a condition, and capturing what a plugin logs.
 */
import assert from 'node:assert/strict';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it holds; resolves with the time that took, or fails the test
 * naming `what` after `timeoutMs`. The bound is a give-up time for a stuck test, not a timing assertion.
 */
export async function eventually(timeoutMs: number, check: () => boolean | Promise<boolean>, what: string, intervalMs = 10): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) assert.fail(`${what}: not seen within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** A logger with pino's `(obj, msg)` shape for warn and info that keeps every line, for assertions. */
export class LogCapture {
  readonly lines: Array<{ level: 'warn' | 'info'; msg: string; obj: Record<string, unknown> }> = [];
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj: obj as Record<string, unknown> });
  }
  /** The messages logged at warn. */
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
  }
}
