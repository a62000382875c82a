/**
 * A least-recently-used map of strings, bounded by a number of entries and by bytes (the UTF-8 length
 * of each key and value), with a time to live per entry. A read refreshes an entry's recency; an
 * expired entry is dropped when it is read or when it is the oldest and room is needed. Nothing runs
 * in the background.
 */
export interface LruOptions {
  maxEntries: number;
  maxBytes: number;
  /** Milliseconds clock; default Date.now (inject one in tests). */
  now?: () => number;
}

interface Slot {
  value: string;
  size: number;
  expiresAt: number;
}

export class LruStore {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  readonly #map = new Map<string, Slot>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;

  constructor(opts: LruOptions) {
    if (!(opts.maxEntries >= 1) || !(opts.maxBytes >= 1)) throw new RangeError('maxEntries and maxBytes must be at least 1');
    this.#maxEntries = opts.maxEntries;
    this.#maxBytes = opts.maxBytes;
    this.#now = opts.now ?? Date.now;
  }

  /** Entries held (expired ones included until they are dropped). */
  get size(): number {
    return this.#map.size;
  }

  /** Bytes held: the UTF-8 length of every key and value. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): string | undefined {
    const slot = this.#map.get(key);
    if (!slot) return undefined;
    if (this.#now() >= slot.expiresAt) {
      this.#drop(key, slot);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, slot);
    return slot.value;
  }

  /**
   * Stores a value for ttlMs, evicting the least recently used entries as needed. Returns false (and
   * keeps nothing under the key) when the value alone is larger than maxBytes.
   */
  set(key: string, value: string, ttlMs: number): boolean {
    const old = this.#map.get(key);
    if (old) this.#drop(key, old);
    const size = Buffer.byteLength(key) + Buffer.byteLength(value);
    if (size > this.#maxBytes || !(ttlMs > 0)) return false;
    this.#map.set(key, { value, size, expiresAt: this.#now() + ttlMs });
    this.#bytes += size;
    while (this.#map.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#map.keys().next().value!;
      this.#drop(oldest, this.#map.get(oldest)!);
    }
    return true;
  }

  delete(key: string): boolean {
    const slot = this.#map.get(key);
    if (!slot) return false;
    this.#drop(key, slot);
    return true;
  }

  /** Drops every expired entry (a full scan; the bounds hold without it). */
  prune(): number {
    const now = this.#now();
    let n = 0;
    for (const [key, slot] of this.#map) {
      if (now >= slot.expiresAt) {
        this.#drop(key, slot);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }

  /** Keys from least to most recently used (for tests and diagnostics). */
  keys(): string[] {
    return [...this.#map.keys()];
  }

  #drop(key: string, slot: Slot): void {
    this.#map.delete(key);
    this.#bytes -= slot.size;
  }
}
