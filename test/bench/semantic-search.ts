// The semantic cache's nearest-neighbour search on its own: exact search (a dot product with every
// stored unit vector) over one partition of 10,000 and 50,000 entries, at a few embedding sizes.
// Reports lookups per second, with the default threshold (0.95) and for the plain nearest neighbour;
// nothing is asserted (timings belong here, not in tests).
//
//   npx tsc -b plugins/cache-semantic test && node test/dist/bench/semantic-search.js
//
// Env: BENCH_SEMANTIC_SIZES (comma list, default 10000,50000), BENCH_SEMANTIC_DIMS (comma list,
// default 256,1536), BENCH_SEMANTIC_MS (time per case in ms, default 2000).
// Args: --json FILE (write the results as JSON).
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** The part of @waygate/cache-semantic this script uses (loaded by path: the test package does not depend on it). */
interface Index {
  add(id: string, vector: ArrayLike<number>, expiresAt: number, text?: string): void;
  nearest(query: ArrayLike<number>, now: number, minScore?: number): { id: string; score: number } | undefined;
  readonly size: number;
  readonly bytes: number;
}
interface SemanticModule {
  VectorIndex: new (dims: number, initialCapacity?: number) => Index;
  normalize(v: ArrayLike<number>): Float32Array | undefined;
}

const list = (v: string | undefined, dflt: number[]) =>
  v
    ? v
        .split(',')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0)
    : dflt;
const SIZES = list(process.env.BENCH_SEMANTIC_SIZES, [10_000, 50_000]);
const DIMS = list(process.env.BENCH_SEMANTIC_DIMS, [256, 1536]);
const CASE_MS = Number(process.env.BENCH_SEMANTIC_MS ?? 2000);

/** xorshift32: a cheap seeded source, so runs are comparable. */
function source(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296 - 0.5;
  };
}

interface Result {
  entries: number;
  dims: number;
  data: 'random' | 'clustered';
  /** Lookups per second with the default threshold 0.95 (entries below it are dropped early). */
  thresholdLookupsPerSecond: number;
  /** Lookups per second for the plain nearest neighbour (no threshold). */
  nearestLookupsPerSecond: number;
  mbHeld: number;
  buildMs: number;
}

/** A unit vector from the source (uniform-ish direction). */
function unit(mod: SemanticModule, rand: () => number, dims: number): Float32Array {
  const raw = new Float32Array(dims);
  for (let j = 0; j < dims; j++) raw[j] = rand();
  return mod.normalize(raw)!;
}

/** a + w*b, normalized. */
function mix(mod: SemanticModule, a: Float32Array, b: Float32Array, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let j = 0; j < a.length; j++) out[j] = a[j]! + w * b[j]!;
  return mod.normalize(out)!;
}

/** Lookups per second over `ms` milliseconds, after a warm-up. */
function rate(index: Index, queries: Float32Array[], minScore: number, ms: number): number {
  let sink = 0;
  for (let q = 0; q < 8; q++) sink += index.nearest(queries[q % queries.length]!, 0, minScore)?.score ?? 0;
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    sink += index.nearest(queries[n % queries.length]!, 0, minScore)?.score ?? 0;
    n++;
    elapsed = performance.now() - start;
  }
  if (sink === Number.MAX_VALUE) console.log('');
  return (n * 1000) / elapsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'string' } } });
  const mod = (await import(new URL('../../../plugins/cache-semantic/dist/src/index.js', import.meta.url).href)) as SemanticModule;
  const results: Result[] = [];
  console.log(`semantic-cache search: exact nearest neighbour over one partition; ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log('random: uniformly spread vectors; clustered: 50 topics (cosine ~0.55 within a topic), half the queries a paraphrase of a stored entry');
  console.log('entries  dims  data         lookups/s @0.95   lookups/s nearest   MB held   build ms');
  for (const dims of DIMS) {
    for (const entries of SIZES) {
      for (const data of ['random', 'clustered'] as const) {
        const rand = source(entries + dims + (data === 'random' ? 0 : 7));
        const topics = Array.from({ length: 50 }, () => unit(mod, rand, dims));
        const t0 = performance.now();
        const index = new mod.VectorIndex(dims, entries);
        const stored: Float32Array[] = [];
        for (let i = 0; i < entries; i++) {
          const v = data === 'random' ? unit(mod, rand, dims) : mix(mod, topics[i % topics.length]!, unit(mod, rand, dims), 0.9);
          if (i % Math.ceil(entries / 64) === 0) stored.push(v);
          index.add(`e${i}`, v, Infinity);
        }
        const buildMs = performance.now() - t0;
        const queries: Float32Array[] = [];
        for (let q = 0; q < 64; q++) {
          if (data === 'random') queries.push(unit(mod, rand, dims));
          else if (q % 2 === 0) queries.push(mix(mod, stored[q % stored.length]!, unit(mod, rand, dims), 0.15));
          else queries.push(mix(mod, topics[q % topics.length]!, unit(mod, rand, dims), 0.9));
        }
        const r: Result = {
          entries,
          dims,
          data,
          thresholdLookupsPerSecond: rate(index, queries, 0.95, CASE_MS),
          nearestLookupsPerSecond: rate(index, queries, -Infinity, CASE_MS),
          mbHeld: index.bytes / (1024 * 1024),
          buildMs,
        };
        results.push(r);
        console.log(
          `${String(entries).padStart(7)}  ${String(dims).padStart(4)}  ${data.padEnd(9)}  ${r.thresholdLookupsPerSecond.toFixed(0).padStart(16)}  ${r.nearestLookupsPerSecond.toFixed(0).padStart(18)}  ${r.mbHeld.toFixed(1).padStart(8)}  ${buildMs.toFixed(0).padStart(9)}`,
        );
      }
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ cpu: os.cpus()[0]?.model, node: process.version, caseMs: CASE_MS, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
