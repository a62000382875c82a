import { expect } from 'chai';
import { LruStore } from '../src/lru.js';

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('LruStore', () => {
  it('evicts the least recently used entry past maxEntries; a read makes an entry recent', () => {
    const lru = new LruStore({ maxEntries: 3, maxBytes: 1_000_000 });
    lru.set('a', '1', 60_000);
    lru.set('b', '2', 60_000);
    lru.set('c', '3', 60_000);
    expect(lru.get('a')).to.equal('1');
    lru.set('d', '4', 60_000);
    expect(lru.size).to.equal(3);
    expect(lru.get('b'), 'b was the least recently used').to.equal(undefined);
    expect(lru.keys()).to.deep.equal(['c', 'a', 'd']);
  });

  it('evicts by bytes (UTF-8 length of key and value) as many entries as it takes', () => {
    const lru = new LruStore({ maxEntries: 100, maxBytes: 30 });
    lru.set('k1', 'x'.repeat(8), 60_000); // 10 bytes
    lru.set('k2', 'x'.repeat(8), 60_000); // 20
    lru.set('k3', 'é'.repeat(4), 60_000); // 2 + 8 = 10 → 30
    expect(lru.bytes).to.equal(30);
    expect(lru.size).to.equal(3);
    lru.set('k4', 'x'.repeat(18), 60_000); // 20 more: k1 and k2 must go
    expect(lru.keys()).to.deep.equal(['k3', 'k4']);
    expect(lru.bytes).to.equal(30);
  });

  it('refuses a value larger than maxBytes on its own, and replacing a key frees its old bytes', () => {
    const lru = new LruStore({ maxEntries: 10, maxBytes: 20 });
    lru.set('a', '12345', 60_000);
    expect(lru.set('b', 'x'.repeat(40), 60_000)).to.equal(false);
    expect(lru.get('b')).to.equal(undefined);
    expect(lru.get('a')).to.equal('12345');
    lru.set('a', '1', 60_000);
    expect(lru.bytes).to.equal(2);
    expect(lru.set('a', 'x'.repeat(40), 60_000)).to.equal(false);
    expect(lru.get('a'), 'a refused replacement leaves nothing stale').to.equal(undefined);
    expect(lru.bytes).to.equal(0);
  });

  it('expires each entry after its own TTL (injected clock)', () => {
    const c = clock();
    const lru = new LruStore({ maxEntries: 10, maxBytes: 1000, now: c.now });
    lru.set('short', 's', 1_000);
    lru.set('long', 'l', 10_000);
    c.advance(999);
    expect(lru.get('short')).to.equal('s');
    c.advance(1);
    expect(lru.get('short')).to.equal(undefined);
    expect(lru.size).to.equal(1);
    expect(lru.get('long')).to.equal('l');
    c.advance(9_000);
    expect(lru.get('long')).to.equal(undefined);
    expect(lru.bytes).to.equal(0);
  });

  it('prune drops every expired entry at once', () => {
    const c = clock();
    const lru = new LruStore({ maxEntries: 10, maxBytes: 1000, now: c.now });
    lru.set('a', '1', 100);
    lru.set('b', '2', 100);
    lru.set('c', '3', 1_000);
    c.advance(500);
    expect(lru.prune()).to.equal(2);
    expect(lru.keys()).to.deep.equal(['c']);
  });

  it('refuses impossible bounds', () => {
    expect(() => new LruStore({ maxEntries: 0, maxBytes: 10 })).to.throw(RangeError);
    expect(() => new LruStore({ maxEntries: 1, maxBytes: 0 })).to.throw(RangeError);
  });
});
