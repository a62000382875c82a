import type { Match } from './vector-index.js';

/**
 * Where the semantic cache keeps its vectors and answers. A partition is one set of requests that
 * may share answers (see `partitionKey`); inside it every entry has a unit vector, the hash of its
 * prompt text, an expiry and a stored answer (core's `encodeAnswer` text).
 *
 * Searches are synchronous and local: a backend that keeps vectors elsewhere (Redis) first brings
 * the partitions a request needs up to date with `sync`, then searches its local copy.
 */
export interface SemanticStore {
  /** Makes the partitions' vectors available for `byText`/`nearest`. Never rejects. */
  sync(partitions: readonly string[]): Promise<void>;
  /** An unexpired entry of the partition stored for the identical prompt text. */
  byText(partition: string, textHash: string, now: number): string | undefined;
  /** The unexpired entry nearest to `vector` (a unit vector) if its similarity is at least `minScore`. */
  nearest(partition: string, vector: Float32Array, minScore: number, now: number): Match | undefined;
  /**
   * An entry's stored answer: undefined when it is gone (expired, evicted), null when the backend
   * could not be asked (unavailable: the entry is not dropped for that). Never rejects.
   */
  answer(partition: string, id: string): Promise<string | undefined | null>;
  /** An entry was used to answer (recency for eviction). */
  touch(partition: string, id: string): void;
  /** Drops an entry found stale (its answer gone or too old for the policy). Fire and forget. */
  remove(partition: string, id: string): void;
  /** Stores an answer under a unit vector for `ttlMs`. Never rejects. */
  add(partition: string, vector: Float32Array, textHash: string, answer: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}
