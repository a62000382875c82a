import { randomUUID } from 'node:crypto';
import { VectorIndex } from './vector-index.js';
import type { Match } from './vector-index.js';
import type { SemanticStore } from './store.js';

export interface MemoryStoreOptions {
  /** Most entries in all partitions together; the least recently used go first. */
  maxEntries: number;
  /** Most entries in one partition; an expired or the least recently used one makes room. */
  maxEntriesPerPartition: number;
  /** Most bytes of stored answers and vectors together (answers counted as their serialized length). */
  maxBytes: number;
  /** Wall-clock milliseconds (tests pass a fake clock). Default Date.now. */
  now?: () => number;
}

interface Entry {
  partition: string;
  answer: string;
  bytes: number;
}

/** Fixed cost counted per entry besides its answer and vector (ids, map slots, per-slot numbers). */
const ENTRY_OVERHEAD = 160;

/**
 * The vectors and answers in this process's memory: one VectorIndex per partition, answers kept
 * serialized (so nothing that handles a response later can change a stored answer, and its size is
 * known), bounded by entries overall, entries per partition and bytes, with a TTL per entry.
 */
export class MemorySemanticStore implements SemanticStore {
  readonly #opts: MemoryStoreOptions;
  readonly #now: () => number;
  readonly #parts = new Map<string, VectorIndex>();
  /** Every entry by id, least recently used first (a hit moves it to the end). */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #tick = 0;

  constructor(opts: MemoryStoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get partitions(): number {
    return this.#parts.size;
  }

  /** The partition's index (tests, diagnostics). */
  index(partition: string): VectorIndex | undefined {
    return this.#parts.get(partition);
  }

  async sync(): Promise<void> {
    /* everything is local */
  }

  byText(partition: string, textHash: string, now: number): string | undefined {
    return this.#parts.get(partition)?.byText(textHash, now);
  }

  nearest(partition: string, vector: Float32Array, minScore: number, now: number): Match | undefined {
    const index = this.#parts.get(partition);
    if (!index || index.dims !== vector.length) return undefined;
    return index.nearest(vector, now, minScore);
  }

  async answer(_partition: string, id: string): Promise<string | undefined> {
    return this.#entries.get(id)?.answer;
  }

  touch(partition: string, id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    this.#entries.set(id, e);
    this.#parts.get(partition)?.touch(id, ++this.#tick);
  }

  remove(_partition: string, id: string): void {
    this.#drop(id);
  }

  async add(partition: string, vector: Float32Array, textHash: string, answer: string, ttlMs: number): Promise<void> {
    const now = this.#now();
    const bytes = answer.length + vector.length * 4 + ENTRY_OVERHEAD;
    if (bytes > this.#opts.maxBytes) return;
    let index = this.#parts.get(partition);
    if (index && index.dims !== vector.length) {
      // The embedder now answers with another number of dimensions: the old vectors cannot be compared.
      for (const id of index.ids()) this.#drop(id);
      index = undefined;
    }
    if (!index) {
      index = new VectorIndex(vector.length);
      this.#parts.set(partition, index);
    }
    // One entry per prompt text: a concurrent miss for the same prompt replaces the first answer.
    const same = index.byText(textHash, now);
    if (same !== undefined) this.#drop(same);
    while (index.size >= this.#opts.maxEntriesPerPartition) {
      const victim = index.victim(now);
      if (victim === undefined) break;
      this.#drop(victim);
    }
    const id = randomUUID();
    index.add(id, vector, now + ttlMs, textHash, ++this.#tick);
    this.#entries.set(id, { partition, answer, bytes });
    this.#bytes += bytes;
    // The partition may have been emptied (and forgotten) by the loop above: make sure it is known.
    this.#parts.set(partition, index);
    while (this.#entries.size > this.#opts.maxEntries || this.#bytes > this.#opts.maxBytes) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined || oldest === id) break;
      this.#drop(oldest);
    }
  }

  /** Removes every expired entry (also done lazily: expired entries are never served). */
  sweep(): number {
    const now = this.#now();
    let n = 0;
    for (const index of [...this.#parts.values()]) {
      for (const id of index.expired(now)) {
        this.#drop(id);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    this.#parts.clear();
    this.#entries.clear();
    this.#bytes = 0;
  }

  #drop(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    this.#bytes -= e.bytes;
    const index = this.#parts.get(e.partition);
    if (index) {
      index.remove(id);
      if (index.size === 0) this.#parts.delete(e.partition);
    }
  }
}
