import type { BreakerOptions } from './options.js';
import type { Admission, BreakerStore, CircuitState, StateChange } from './types.js';

/** The error-ratio window is cut into this many buckets; it slides one bucket at a time. */
export const WINDOW_BUCKETS = 10;

export type Clock = () => number;

export interface MemoryStoreDeps {
  /** Monotonic milliseconds. Default performance.now. Tests pass a fake clock. */
  now?: Clock;
  onChange?: (change: StateChange) => void;
}

/** Request and failure counts over the last `windowMs`, in WINDOW_BUCKETS buckets. */
class Window {
  readonly #bucketMs: number;
  readonly #epochs = new Array<number>(WINDOW_BUCKETS).fill(-1);
  readonly #totals = new Array<number>(WINDOW_BUCKETS).fill(0);
  readonly #failures = new Array<number>(WINDOW_BUCKETS).fill(0);

  constructor(windowMs: number) {
    this.#bucketMs = Math.max(1, windowMs / WINDOW_BUCKETS);
  }

  add(now: number, failed: boolean): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const i = epoch % WINDOW_BUCKETS;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#totals[i] = 0;
      this.#failures[i] = 0;
    }
    this.#totals[i]!++;
    if (failed) this.#failures[i]!++;
  }

  /** [requests, failures] in the buckets of the current window. */
  sum(now: number): [number, number] {
    const oldest = Math.floor(now / this.#bucketMs) - WINDOW_BUCKETS;
    let total = 0;
    let failures = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      if (this.#epochs[i]! > oldest) {
        total += this.#totals[i]!;
        failures += this.#failures[i]!;
      }
    }
    return [total, failures];
  }

  reset(): void {
    this.#epochs.fill(-1);
  }
}

interface Circuit {
  state: CircuitState;
  consecutive: number;
  /** When an open circuit may let probes through. */
  openUntil: number;
  /** Probes let through and not yet answered (half-open). */
  probes: number;
  /** When the latest probe was let through. */
  probeAt: number;
  window: Window;
}

/**
 * The circuit breaker's state machine, per target key, in this process: closed → open (after
 * `failureThreshold` consecutive counted failures, or an error ratio of at least `errorRatio` over
 * `windowMs` with `minRequests`) → half-open after `cooldownMs` (`halfOpenProbes` requests at a time)
 * → closed on a success, or open again on a failure. The map of targets is bounded (`maxTargets`,
 * least recently used first out).
 */
export class MemoryStore implements BreakerStore {
  readonly #opts: BreakerOptions;
  readonly #now: Clock;
  readonly #onChange: ((change: StateChange) => void) | undefined;
  readonly #circuits = new Map<string, Circuit>();

  constructor(opts: BreakerOptions, deps: MemoryStoreDeps = {}) {
    this.#opts = opts;
    this.#now = deps.now ?? (() => performance.now());
    this.#onChange = deps.onChange;
  }

  /** How many targets are tracked (for tests and metrics). */
  get size(): number {
    return this.#circuits.size;
  }

  admit(key: string): Admission {
    const c = this.#circuits.get(key);
    if (c === undefined || c.state === 'closed') return 'pass';
    const now = this.#now();
    if (c.state === 'open') {
      if (now < c.openUntil) return 'deny';
      this.#halfOpen(key, c);
    }
    // Half-open: a probe that never reported back (a lost request) stops holding its slot.
    if (c.probes > 0 && now - c.probeAt >= this.#opts.probeTimeoutMs) c.probes = 0;
    if (c.probes >= this.#opts.halfOpenProbes) return 'deny';
    c.probes++;
    c.probeAt = now;
    return 'probe';
  }

  release(key: string): void {
    const c = this.#circuits.get(key);
    if (c !== undefined && c.state === 'half-open' && c.probes > 0) c.probes--;
  }

  record(key: string, failed: boolean): void {
    let c = this.#circuits.get(key);
    if (c === undefined) {
      c = { state: 'closed', consecutive: 0, openUntil: 0, probes: 0, probeAt: 0, window: new Window(this.#opts.windowMs) };
      if (this.#circuits.size >= this.#opts.maxTargets) this.#circuits.delete(this.#circuits.keys().next().value!);
    } else {
      // Most recently used last: the bound drops the least recently used target.
      this.#circuits.delete(key);
    }
    this.#circuits.set(key, c);

    const now = this.#now();
    if (c.state === 'open') {
      // Outcomes of requests let through before the circuit opened do not change an open circuit.
      if (now < c.openUntil) return;
      this.#halfOpen(key, c);
    }
    if (c.state === 'half-open') {
      if (failed) this.#open(key, c, now, 'a half-open probe failed');
      else this.#close(key, c, 'a half-open probe succeeded');
      return;
    }

    c.window.add(now, failed);
    if (!failed) {
      c.consecutive = 0;
      return;
    }
    c.consecutive++;
    if (c.consecutive >= this.#opts.failureThreshold) {
      this.#open(key, c, now, `${c.consecutive} consecutive failures`);
      return;
    }
    const [total, failures] = c.window.sum(now);
    if (total >= this.#opts.minRequests && failures / total >= this.#opts.errorRatio) {
      this.#open(key, c, now, `${failures} of ${total} requests failed within ${this.#opts.windowMs} ms`);
    }
  }

  state(key: string): CircuitState {
    const c = this.#circuits.get(key);
    if (c === undefined) return 'closed';
    if (c.state === 'open' && this.#now() >= c.openUntil) return 'half-open';
    return c.state;
  }

  /** Forgets every target (tests, or an operator's reset). */
  clear(): void {
    this.#circuits.clear();
  }

  idle(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#circuits.clear();
    return Promise.resolve();
  }

  #open(key: string, c: Circuit, now: number, reason: string): void {
    const from = c.state;
    c.state = 'open';
    c.openUntil = now + this.#opts.cooldownMs;
    c.consecutive = 0;
    c.probes = 0;
    c.window.reset();
    this.#onChange?.({ key, from, to: 'open', reason });
  }

  #halfOpen(key: string, c: Circuit): void {
    c.state = 'half-open';
    c.probes = 0;
    this.#onChange?.({ key, from: 'open', to: 'half-open', reason: `the ${this.#opts.cooldownMs} ms cooldown passed` });
  }

  #close(key: string, c: Circuit, reason: string): void {
    const from = c.state;
    c.state = 'closed';
    c.consecutive = 0;
    c.probes = 0;
    c.window.reset();
    this.#onChange?.({ key, from, to: 'closed', reason });
  }
}
