import { expect } from 'chai';
import { MemorySemanticStore, normalize } from '../src/index.js';

const v = (...xs: number[]) => normalize(xs)!;

describe('@waygate/cache-semantic memory store', () => {
  let now = 1_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  function store(opts: Partial<{ maxEntries: number; maxEntriesPerPartition: number; maxBytes: number }> = {}) {
    return new MemorySemanticStore({ maxEntries: 100, maxEntriesPerPartition: 100, maxBytes: 1 << 20, now: clock, ...opts });
  }

  it('stores answers per partition and finds them by meaning and by identical text', async () => {
    const s = store();
    await s.add('p1', v(1, 0), 'h1', 'A1', 10_000);
    await s.add('p2', v(1, 0), 'h2', 'A2', 10_000);
    const m = s.nearest('p1', v(1, 0.1), 0.9, now)!;
    expect(await s.answer('p1', m.id)).to.equal('A1');
    expect(m.score).to.be.closeTo(1 / Math.sqrt(1.01), 1e-6);
    expect(s.nearest('p1', v(0, 1), 0.9, now)).to.equal(undefined);
    expect(s.nearest('p3', v(1, 0), 0.9, now)).to.equal(undefined);
    const id = s.byText('p2', 'h2', now)!;
    expect(await s.answer('p2', id)).to.equal('A2');
    expect(s.byText('p1', 'h2', now)).to.equal(undefined);
  });

  it('expires entries after their TTL and sweeps them', async () => {
    const s = store();
    await s.add('p', v(1, 0), 'h', 'A', 500);
    now += 499;
    expect(s.nearest('p', v(1, 0), 0.5, now)).to.not.equal(undefined);
    now += 1;
    expect(s.nearest('p', v(1, 0), 0.5, now)).to.equal(undefined);
    expect(s.byText('p', 'h', now)).to.equal(undefined);
    expect(s.sweep()).to.equal(1);
    expect(s.size).to.equal(0);
    expect(s.partitions).to.equal(0);
  });

  it('keeps one entry per prompt text in a partition', async () => {
    const s = store();
    await s.add('p', v(1, 0), 'h', 'first', 10_000);
    await s.add('p', v(1, 0), 'h', 'second', 10_000);
    expect(s.size).to.equal(1);
    expect(await s.answer('p', s.byText('p', 'h', now)!)).to.equal('second');
  });

  it('bounds entries per partition, evicting the least recently used', async () => {
    const s = store({ maxEntriesPerPartition: 2 });
    await s.add('p', v(1, 0), 'a', 'A', 10_000);
    await s.add('p', v(0, 1), 'b', 'B', 10_000);
    s.touch('p', s.byText('p', 'a', now)!);
    await s.add('p', v(1, 1), 'c', 'C', 10_000);
    expect(s.size).to.equal(2);
    expect(s.byText('p', 'a', now)).to.not.equal(undefined);
    expect(s.byText('p', 'b', now)).to.equal(undefined);
    expect(s.byText('p', 'c', now)).to.not.equal(undefined);
  });

  it('bounds entries and bytes overall, least recently used first', async () => {
    const s = store({ maxEntries: 2 });
    await s.add('p1', v(1, 0), 'a', 'A', 10_000);
    await s.add('p2', v(1, 0), 'b', 'B', 10_000);
    s.touch('p1', s.byText('p1', 'a', now)!);
    await s.add('p3', v(1, 0), 'c', 'C', 10_000);
    expect(s.size).to.equal(2);
    expect(s.byText('p2', 'b', now)).to.equal(undefined);
    expect(s.partitions).to.equal(2);

    const small = store({ maxBytes: 2_000 });
    await small.add('p', v(1, 0), 'a', 'x'.repeat(900), 10_000);
    await small.add('p', v(0, 1), 'b', 'y'.repeat(900), 10_000);
    expect(small.size).to.equal(1);
    expect(small.bytes).to.be.at.most(2_000);
    await small.add('p', v(1, 1), 'c', 'z'.repeat(5_000), 10_000);
    expect(small.byText('p', 'c', now), 'an answer larger than the whole budget is not stored').to.equal(undefined);
  });

  it('starts a partition afresh when the vectors change dimensions, and removes stale entries', async () => {
    const s = store();
    await s.add('p', v(1, 0), 'a', 'A', 10_000);
    await s.add('p', v(1, 0, 0), 'b', 'B', 10_000);
    expect(s.size).to.equal(1);
    expect(s.index('p')!.dims).to.equal(3);
    const id = s.byText('p', 'b', now)!;
    s.remove('p', id);
    expect(s.size).to.equal(0);
    expect(await s.answer('p', id)).to.equal(undefined);
  });
});
