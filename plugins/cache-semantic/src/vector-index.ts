/**
 * Exact nearest-neighbour search over unit vectors. Every vector of a partition lives in one
 * contiguous Float32Array (grown by doubling), so a lookup is a dot product per entry in a tight
 * loop over memory read in order: no per-entry objects, no pointer chasing, nothing for the garbage
 * collector. Vectors are normalized when they go in, so the dot product is the cosine similarity.
 *
 * The scan stops early on entries that provably cannot win, without giving up exactness: for each
 * entry the norms of its vector's tails (the dimensions from 32, 64, 96, ... on) are kept, and after
 * each block of 32 dimensions the partial dot product plus |entry tail| x |query tail| (Cauchy-Schwarz:
 * the most the remaining dimensions can add) is compared with the best score so far, or with the
 * threshold. Below it, the rest of that entry is skipped. With a high threshold (0.95 by default)
 * most entries are dropped after a block or two.
 */

/** Dimensions per block between two early-exit checks. */
const BLOCK = 32;
/** Margin for float rounding in the early-exit bound (scores differ from exact by far less). */
const EPS = 1e-5;

/** The best match of a search. */
export interface Match {
  id: string;
  /** Cosine similarity, in [-1, 1]. */
  score: number;
}

/**
 * A unit-length Float32Array copy of `v`, or undefined when it has no direction (all zeros, or a
 * value that is not a finite number).
 */
export function normalize(v: ArrayLike<number>): Float32Array | undefined {
  const n = v.length;
  if (n === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    sum += x * x;
  }
  if (!Number.isFinite(sum) || sum === 0) return undefined;
  const inv = 1 / Math.sqrt(sum);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = v[i]! * inv;
  return out;
}

/** The dot product of two equal-length vectors (the cosine similarity of two unit vectors). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * One partition's vectors: id, unit vector, expiry time and prompt-text hash per slot. Removing an
 * entry moves the last slot into its place, so the live slots stay packed at the front.
 */
export class VectorIndex {
  readonly dims: number;
  /** Blocks per vector: tail norms kept per entry. */
  readonly #blocks: number;
  #data: Float32Array;
  /** Per entry, the norm of its vector from block k on (k = 0 .. blocks-1; k = 0 is the whole vector). */
  #tails: Float32Array;
  /** The query's tail norms (reused: a search does not allocate). */
  #queryTails: Float64Array;
  #expires: Float64Array;
  #used: Float64Array;
  #capacity: number;
  #count = 0;
  #ids: string[] = [];
  #texts: string[] = [];
  readonly #slots = new Map<string, number>();
  readonly #byText = new Map<string, number>();

  constructor(dims: number, initialCapacity = 16) {
    if (!Number.isInteger(dims) || dims < 1) throw new Error(`a vector index needs a positive whole number of dimensions (got ${dims})`);
    this.dims = dims;
    this.#capacity = Math.max(1, initialCapacity);
    this.#blocks = Math.ceil(dims / BLOCK);
    this.#data = new Float32Array(this.#capacity * dims);
    this.#tails = new Float32Array(this.#capacity * this.#blocks);
    this.#queryTails = new Float64Array(this.#blocks);
    this.#expires = new Float64Array(this.#capacity);
    this.#used = new Float64Array(this.#capacity);
  }

  /** Live entries (expired ones included until they are removed). */
  get size(): number {
    return this.#count;
  }

  /** Bytes held by the vectors and per-slot numbers (allocated capacity, not just live entries). */
  get bytes(): number {
    return this.#data.byteLength + this.#tails.byteLength + this.#expires.byteLength + this.#used.byteLength;
  }

  has(id: string): boolean {
    return this.#slots.has(id);
  }

  /**
   * Adds (or replaces) an entry. `vector` must already be unit length (see `normalize`) and have
   * `dims` values; `text` is a hash of the prompt text, for the identical-prompt shortcut.
   */
  add(id: string, vector: ArrayLike<number>, expiresAt: number, text = '', usedAt = 0): void {
    if (vector.length !== this.dims) throw new Error(`vector has ${vector.length} dimensions, the index ${this.dims}`);
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      if (this.#count === this.#capacity) this.#grow();
      slot = this.#count++;
      this.#slots.set(id, slot);
      this.#ids[slot] = id;
    } else if (this.#byText.get(this.#texts[slot]!) === slot) {
      this.#byText.delete(this.#texts[slot]!);
    }
    this.#data.set(vector, slot * this.dims);
    tailNorms(vector, this.#tails, slot * this.#blocks, this.#blocks);
    this.#expires[slot] = expiresAt;
    this.#used[slot] = usedAt;
    this.#texts[slot] = text;
    if (text) this.#byText.set(text, slot);
  }

  /**
   * Adds an entry whose vector is `dims` little-endian float32 values in `buf` from `offset` (the
   * Redis wire form), without an intermediate array.
   */
  addFromBuffer(id: string, buf: Buffer, offset: number, expiresAt: number, text = ''): void {
    if (buf.length - offset !== this.dims * 4) throw new Error(`stored vector has ${(buf.length - offset) / 4} dimensions, the index ${this.dims}`);
    const tmp = scratch(this.dims);
    for (let i = 0; i < this.dims; i++) tmp[i] = buf.readFloatLE(offset + 4 * i);
    this.add(id, tmp, expiresAt, text);
  }

  /** Removes an entry; false when there was none. */
  remove(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#slots.delete(id);
    if (this.#byText.get(this.#texts[slot]!) === slot) this.#byText.delete(this.#texts[slot]!);
    const last = --this.#count;
    if (slot !== last) {
      const d = this.dims;
      this.#data.copyWithin(slot * d, last * d, last * d + d);
      const b = this.#blocks;
      this.#tails.copyWithin(slot * b, last * b, last * b + b);
      this.#expires[slot] = this.#expires[last]!;
      this.#used[slot] = this.#used[last]!;
      const movedId = this.#ids[last]!;
      const movedText = this.#texts[last]!;
      this.#ids[slot] = movedId;
      this.#texts[slot] = movedText;
      this.#slots.set(movedId, slot);
      if (movedText && this.#byText.get(movedText) === last) this.#byText.set(movedText, slot);
    }
    this.#ids.length = last;
    this.#texts.length = last;
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.#count = 0;
    this.#ids = [];
    this.#texts = [];
    this.#slots.clear();
    this.#byText.clear();
  }

  /**
   * The entry most similar to `query` (a unit vector) among those not expired at `now`, if its score
   * is at least `minScore`. Exact: every entry is compared.
   */
  nearest(query: ArrayLike<number>, now: number, minScore = -Infinity): Match | undefined {
    const d = this.dims;
    if (query.length !== d) return undefined;
    const data = this.#data;
    const tails = this.#tails;
    const expires = this.#expires;
    const nb = this.#blocks;
    const qt = this.#queryTails;
    tailNorms(query, qt, 0, nb);
    const n = this.#count;
    let best = minScore;
    let cut = best - EPS;
    let bestSlot = -1;
    for (let i = 0, off = 0, toff = 0; i < n; i++, off += d, toff += nb) {
      let s = 0;
      let k = 0;
      for (let j = 0; k < nb; k++) {
        // What the rest of the vector can add at most: below the bar, this entry cannot win.
        if (k > 0 && s + tails[toff + k]! * qt[k]! < cut) break;
        const end = j + BLOCK <= d ? j + BLOCK : d;
        if (end - j === BLOCK) {
          // Four independent sums: the additions do not wait on each other.
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          for (let x = off + j, y = j; y < end; x += 4, y += 4) {
            s0 += data[x]! * query[y]!;
            s1 += data[x + 1]! * query[y + 1]!;
            s2 += data[x + 2]! * query[y + 2]!;
            s3 += data[x + 3]! * query[y + 3]!;
          }
          s += s0 + s1 + (s2 + s3);
        } else {
          for (let x = off + j, y = j; y < end; x++, y++) s += data[x]! * query[y]!;
        }
        j = end;
      }
      if (k < nb) continue;
      if (s >= best && (bestSlot === -1 || s > best) && expires[i]! > now) {
        best = s;
        cut = best - EPS;
        bestSlot = i;
      }
    }
    return bestSlot === -1 ? undefined : { id: this.#ids[bestSlot]!, score: best };
  }

  /** The entry stored for an identical prompt (same text hash), if it has not expired. */
  byText(text: string, now: number): string | undefined {
    const slot = this.#byText.get(text);
    if (slot === undefined || this.#expires[slot]! <= now) return undefined;
    return this.#ids[slot];
  }

  /** Marks an entry as used at `t` (for least-recently-used eviction). */
  touch(id: string, t: number): void {
    const slot = this.#slots.get(id);
    if (slot !== undefined) this.#used[slot] = t;
  }

  /** The entry to evict first: an expired one if any, else the least recently used. */
  victim(now: number): string | undefined {
    let best = -1;
    let bestUsed = Infinity;
    for (let i = 0; i < this.#count; i++) {
      if (this.#expires[i]! <= now) return this.#ids[i];
      if (this.#used[i]! < bestUsed) {
        bestUsed = this.#used[i]!;
        best = i;
      }
    }
    return best === -1 ? undefined : this.#ids[best];
  }

  /** Ids of the entries expired at `now`. */
  expired(now: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#count; i++) if (this.#expires[i]! <= now) out.push(this.#ids[i]!);
    return out;
  }

  /** When an entry expires (ms since the epoch), or undefined. */
  expiresAt(id: string): number | undefined {
    const slot = this.#slots.get(id);
    return slot === undefined ? undefined : this.#expires[slot];
  }

  /** A copy of an entry's stored vector (tests, diagnostics). */
  vector(id: string): Float32Array | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    return this.#data.slice(slot * this.dims, slot * this.dims + this.dims);
  }

  ids(): string[] {
    return this.#ids.slice(0, this.#count);
  }

  #grow(): void {
    const cap = this.#capacity * 2;
    const data = new Float32Array(cap * this.dims);
    data.set(this.#data.subarray(0, this.#count * this.dims));
    const tails = new Float32Array(cap * this.#blocks);
    tails.set(this.#tails.subarray(0, this.#count * this.#blocks));
    this.#tails = tails;
    const expires = new Float64Array(cap);
    expires.set(this.#expires.subarray(0, this.#count));
    const used = new Float64Array(cap);
    used.set(this.#used.subarray(0, this.#count));
    this.#data = data;
    this.#expires = expires;
    this.#used = used;
    this.#capacity = cap;
  }
}

/**
 * Writes the norms of `v`'s tails (from dimension k*BLOCK to the end, for each block k) into `out`
 * from `at`, rounded up by a hair so that the bound they give is never below the exact one.
 */
function tailNorms(v: ArrayLike<number>, out: Float32Array | Float64Array, at: number, blocks: number): void {
  let sum = 0;
  for (let k = blocks - 1; k >= 0; k--) {
    const end = Math.min(v.length, (k + 1) * BLOCK);
    for (let j = k * BLOCK; j < end; j++) sum += v[j]! * v[j]!;
    out[at + k] = Math.sqrt(sum) * (1 + 1e-6);
  }
}

let scratchBuf = new Float32Array(0);
function scratch(n: number): Float32Array {
  if (scratchBuf.length < n) scratchBuf = new Float32Array(n);
  return scratchBuf.length === n ? scratchBuf : scratchBuf.subarray(0, n);
}
