import { expect } from 'chai';
import { seeded } from '@waygate/core/testing';
import { VectorIndex, normalize } from '../src/index.js';

/** A random unit vector (uniform direction: normalized Gaussian coordinates). */
function randomUnit(rand: () => number, dims: number): Float32Array {
  const v = new Array<number>(dims);
  for (let i = 0; i < dims; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand() || 1e-12));
    const a = 2 * Math.PI * rand();
    v[i] = r * Math.cos(a);
    if (i + 1 < dims) v[i + 1] = r * Math.sin(a);
  }
  return normalize(v)!;
}

/** The brute-force reference: every stored vector, a plain dot product in order, the best kept. */
function bruteForce(stored: Float32Array[], ids: string[], q: Float32Array, live: (i: number) => boolean, minScore = -Infinity) {
  let best: { id: string; score: number } | undefined;
  for (let i = 0; i < stored.length; i++) {
    if (!live(i)) continue;
    let s = 0;
    for (let j = 0; j < q.length; j++) s += stored[i]![j]! * q[j]!;
    if (s >= minScore && (!best || s > best.score)) best = { id: ids[i]!, score: s };
  }
  return best;
}

describe('@waygate/cache-semantic VectorIndex', () => {
  it('normalize gives unit vectors and refuses vectors without a direction', () => {
    const v = normalize([3, 4])!;
    expect(v[0]).to.be.closeTo(0.6, 1e-7);
    expect(v[1]).to.be.closeTo(0.8, 1e-7);
    expect(normalize([0, 0, 0])).to.equal(undefined);
    expect(normalize([])).to.equal(undefined);
    expect(normalize([1, Number.NaN])).to.equal(undefined);
  });

  it('finds the exact nearest neighbour among 50,000 vectors, as a brute-force scan does', function () {
    this.timeout(60_000);
    const rand = seeded(42);
    const dims = 64;
    const n = 50_000;
    const index = new VectorIndex(dims);
    const stored: Float32Array[] = [];
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = randomUnit(rand, dims);
      stored.push(v);
      ids.push(`e${i}`);
      index.add(`e${i}`, v, Infinity);
    }
    expect(index.size).to.equal(n);
    for (let q = 0; q < 40; q++) {
      // Half the queries lie close to a stored vector, half anywhere.
      let query: Float32Array;
      if (q % 2 === 0) {
        const base = stored[Math.floor(rand() * n)]!;
        const noise = randomUnit(rand, dims);
        query = normalize(base.map((x, j) => x + 0.2 * noise[j]!))!;
      } else {
        query = randomUnit(rand, dims);
      }
      const got = index.nearest(query, 0);
      const want = bruteForce(stored, ids, query, () => true)!;
      expect(got?.id, `query ${q}`).to.equal(want.id);
      expect(got!.score).to.be.closeTo(want.score, 1e-9);
      // With a threshold (entries that cannot reach it are dropped early): the same answer, or none.
      for (const min of [0.5, 0.9]) {
        const ref = bruteForce(stored, ids, query, () => true, min);
        expect(index.nearest(query, 0, min)?.id, `query ${q} at ${min}`).to.equal(ref?.id);
      }
    }
  });

  it('agrees with the brute force after removals (swap-remove keeps every vector with its id), for odd dimensions too', function () {
    this.timeout(30_000);
    for (const dims of [7, 16]) {
      const rand = seeded(dims);
      const index = new VectorIndex(dims, 1);
      const stored: Float32Array[] = [];
      const ids: string[] = [];
      const removed = new Set<number>();
      for (let i = 0; i < 5_000; i++) {
        const v = randomUnit(rand, dims);
        stored.push(v);
        ids.push(`e${i}`);
        index.add(`e${i}`, v, Infinity, `t${i}`);
      }
      for (let i = 0; i < 5_000; i += 3) {
        expect(index.remove(`e${i}`)).to.equal(true);
        removed.add(i);
      }
      expect(index.remove('e0')).to.equal(false);
      expect(index.size).to.equal(5_000 - removed.size);
      for (let i = 1; i < 5_000; i += 97) {
        if (removed.has(i)) continue;
        expect(Array.from(index.vector(`e${i}`)!)).to.deep.equal(Array.from(stored[i]!));
        expect(index.byText(`t${i}`, 0)).to.equal(`e${i}`);
      }
      expect(index.byText('t0', 0)).to.equal(undefined);
      for (let q = 0; q < 20; q++) {
        const query = randomUnit(rand, dims);
        const want = bruteForce(stored, ids, query, (i) => !removed.has(i))!;
        const got = index.nearest(query, 0)!;
        expect(got.id).to.equal(want.id);
        expect(got.score).to.be.closeTo(want.score, 1e-9);
      }
    }
  });

  it('skips expired entries and those below the minimum score', () => {
    const index = new VectorIndex(2);
    index.add('a', normalize([1, 0])!, 100);
    index.add('b', normalize([1, 0.2])!, 1_000);
    expect(index.nearest(normalize([1, 0])!, 50)?.id).to.equal('a');
    // At t=100 'a' has expired: the next best answers.
    expect(index.nearest(normalize([1, 0])!, 100)?.id).to.equal('b');
    expect(index.nearest(normalize([0, 1])!, 50, 0.5)).to.equal(undefined);
    expect(index.nearest(normalize([0, 1])!, 50)?.id).to.equal('b');
    expect(index.expired(500)).to.deep.equal(['a']);
    // A query with another number of dimensions finds nothing.
    expect(index.nearest(normalize([1, 0, 0])!, 0)).to.equal(undefined);
  });

  it('replaces an entry added again under the same id, and picks an expired or least recently used victim', () => {
    const index = new VectorIndex(2);
    index.add('a', normalize([1, 0])!, 1_000, 'ta', 1);
    index.add('b', normalize([0, 1])!, 1_000, 'tb', 2);
    index.add('a', normalize([0, 1])!, 1_000, 'ta2', 3);
    expect(index.size).to.equal(2);
    expect(index.byText('ta', 0)).to.equal(undefined);
    expect(index.byText('ta2', 0)).to.equal('a');
    expect(index.victim(0)).to.equal('b');
    index.touch('b', 10);
    expect(index.victim(0)).to.equal('a');
    index.add('c', normalize([1, 1])!, 5, '', 20);
    expect(index.victim(5)).to.equal('c');
  });

  it('reads vectors in the Redis wire form (little-endian float32 after a header)', () => {
    const v = normalize([1, 2, 3])!;
    const buf = Buffer.alloc(24 + 12);
    v.forEach((x, i) => buf.writeFloatLE(x, 24 + 4 * i));
    const index = new VectorIndex(3);
    index.addFromBuffer('x', buf, 24, Infinity, 'tx');
    expect(Array.from(index.vector('x')!)).to.deep.equal(Array.from(v));
    expect(() => index.addFromBuffer('y', buf.subarray(0, 32), 24, Infinity)).to.throw(/dimensions/);
  });
});
