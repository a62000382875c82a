// What the request path asks of the store: key lookups (kept while the store says nothing changed),
// spend rows (written in batches), and the text of streamed events counted for estimates.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDatabase } from '@waygate/store';
import { KeyDirectory } from '../src/directory.js';
import { textLength } from '../src/governance.js';
import { StoreLedger, summed } from '../src/spend.js';
import { PostgresStore, SqlStore, SqliteStore } from '../src/store.js';
import type { AuthStore, SpendRow } from '../src/store.js';
import type { KeyRecord } from '../src/records.js';
import { newKey } from '../src/keys.js';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from './support.js';

const T0 = '2030-01-01T00:00:00.000Z';
const NONE = { models: null, providers: null, endpoints: null, config: null, metadata: null, rate_limit: null, budget: null };
const quiet = { warn() {}, info() {}, error() {}, debug() {} } as never;
const nextTurn = () => new Promise((r) => setImmediate(r));
/** Longer than the millisecond a read of SQLite's data_version stands for. */
const aMoment = () => new Promise((r) => setTimeout(r, 3));
const settings = { ttlMs: 0, whenDown: 'refuse' as const, lastKnownMs: 1000, timeoutMs: 2000 };

function record(id: string, hash: string): KeyRecord {
  return { id, hash, name: id, team: null, ...NONE, expires_at: null, created_at: T0, updated_at: T0, revoked_at: null };
}

describe('@waygate/auth key lookups', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-auth-dir-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('asks SQLite once while nothing changes, and sees a revocation by another process a millisecond later', async () => {
    const file = path.join(dir, 'keys.sqlite');
    const mine = await SqliteStore.open(file);
    // Another process's connection to the same file.
    const theirs = await SqliteStore.open(file);
    try {
      const k = newKey();
      await theirs.insertKey(record(k.id, k.hash));
      const directory = new KeyDirectory(mine, [], settings);
      expect(await directory.verify(k.key)).to.have.property('principal');
      const asked = directory.storeLookups;
      for (let i = 0; i < 5; i++) {
        await nextTurn();
        expect(await directory.verify(k.key)).to.have.property('principal');
      }
      expect(directory.storeLookups).to.equal(asked);
      await theirs.revokeKey(k.id, T0);
      await aMoment();
      expect(await directory.verify(k.key)).to.deep.include({ refused: 'revoked', keyId: k.id });
      expect(directory.storeLookups).to.equal(asked + 1);
    } finally {
      await mine.close();
      await theirs.close();
    }
  });

  it('sees at once a change made through another store over the same connection (a second gateway in the process)', async () => {
    const db = await SqliteDatabase.open(path.join(dir, 'shared.sqlite'));
    const a = await SqlStore.over(db, async () => undefined);
    const b = await SqlStore.over(db, async () => undefined);
    try {
      const k = newKey();
      await a.insertKey(record(k.id, k.hash));
      const directory = new KeyDirectory(a, [], settings);
      expect(await directory.verify(k.key)).to.have.property('principal');
      await b.updateKey(k.id, { models: ['gpt-4o*'] }, T0);
      const after = await directory.verify(k.key);
      expect('principal' in after && after.principal.allows('models', 'claude-3')).to.equal(false);
      await b.revokeKey(k.id, T0);
      expect(await directory.verify(k.key)).to.deep.include({ refused: 'revoked' });
    } finally {
      await db.close();
    }
  });

  describe('on PostgreSQL', function () {
    const schema = runSchema('authdir');
    let ran = false;
    before(async function () {
      await requirePostgres(this, 'the key lookups on PostgreSQL');
      ran = true;
    });
    after(async () => {
      if (ran) await dropSchema(schema);
    });

    it('asks the store on every request without a fan-out (it cannot tell cheaply whether a key changed)', async () => {
      const store = await PostgresStore.open({ url: DATABASE_URL, schema, timeoutMs: 2000, poolSize: 2 });
      try {
        expect(store.freshness()).to.equal(undefined);
        const k = newKey();
        await store.insertKey(record(k.id, k.hash));
        const directory = new KeyDirectory(store, [], settings);
        await directory.verify(k.key);
        await directory.verify(k.key);
        await directory.verify(k.key);
        expect(directory.storeLookups).to.equal(3);
      } finally {
        await store.close();
      }
    });
  });
});

describe('@waygate/auth spend rows', () => {
  const row = (key: string): SpendRow => ({
    at: T0,
    key_id: key,
    team: null,
    model: 'm',
    provider: 'openai',
    endpoint: 'chat',
    prompt_tokens: 1,
    completion_tokens: 1,
    cached_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0.5,
    estimated: false,
  });

  async function counted(): Promise<{ store: AuthStore; batches: number[]; close(): Promise<void> }> {
    const real = await SqliteStore.open(':memory:');
    const batches: number[] = [];
    const store = {
      // Each write's count of requests (its rows are sums).
      insertSpend: (rows: readonly SpendRow[]) => (batches.push(rows.reduce((n, r) => n + (r.requests ?? 1), 0)), real.insertSpend(rows)),
      spentSince: (scope: 'key' | 'team', id: string, since: string) => real.spentSince(scope, id, since),
    } as unknown as AuthStore;
    return { store, batches, close: () => real.close() };
  }

  it('writes rows of keys without a budget in one batch a little later, and counts them for budgets meanwhile', async () => {
    const { store, batches, close } = await counted();
    const ledger = new StoreLedger(store, quiet);
    try {
      for (let i = 0; i < 50; i++) ledger.record(row('k1'));
      await nextTurn();
      // Nothing yet: the rows wait for the flush delay, and count for budgets meanwhile.
      expect(batches).to.deep.equal([]);
      expect(await ledger.spentSince('key', 'k1', T0)).to.equal(25);
      for (let i = 0; i < 100 && !batches.length; i++) await new Promise((r) => setTimeout(r, 50));
      expect(batches).to.deep.equal([50]);
      expect(await ledger.spentSince('key', 'k1', T0)).to.equal(25);
    } finally {
      await ledger.close();
      await close();
    }
  });

  it('sums rows per key, team, model, provider, endpoint, minute and pricedness, keeping the first time', async () => {
    const at = (m: string) => `2030-01-01T00:${m}.000Z`;
    const rows: SpendRow[] = [
      { ...row('k1'), at: at('00:01') },
      { ...row('k1'), at: at('00:59'), estimated: true, completion_tokens: 4 },
      { ...row('k1'), at: at('01:00') },
      { ...row('k1'), at: at('00:30'), model: 'other' },
      { ...row('k1'), at: at('00:31'), cost_usd: null },
      { ...row('k2'), at: at('00:32') },
    ];
    const out = summed(rows);
    expect(out).to.have.length(5);
    expect(out[0]).to.deep.include({ at: at('00:01'), requests: 2, estimated: 1, completion_tokens: 5, prompt_tokens: 2, cost_usd: 1 });
    expect(out.map((r) => [r.key_id, r.model, r.requests, r.cost_usd])).to.deep.equal([
      ['k1', 'm', 2, 1],
      ['k1', 'm', 1, 0.5],
      ['k1', 'other', 1, 0.5],
      ['k1', 'm', 1, null],
      ['k2', 'm', 1, 0.5],
    ]);
    // What the store then reports is what the single rows would have: requests, estimates, cost.
    const real = await SqliteStore.open(':memory:');
    try {
      await real.insertSpend(out);
      const [total] = await real.spendReport({ from: at('00:00'), to: at('59:00'), groupBy: [] });
      expect(total).to.deep.include({ requests: 6, estimated_requests: 1, unpriced_requests: 1, cost_usd: 2.5, completion_tokens: 9 });
    } finally {
      await real.close();
    }
  });

  it('writes a row of a key with a budget at the next turn, and writes what waits at drain and close', async () => {
    const { store, batches, close } = await counted();
    const ledger = new StoreLedger(store, quiet);
    try {
      ledger.record(row('k1'), true);
      ledger.record(row('k1'), true);
      await nextTurn();
      await nextTurn();
      expect(batches).to.deep.equal([2]);
      ledger.record(row('k2'));
      await ledger.drain();
      expect(batches).to.deep.equal([2, 1]);
      ledger.record(row('k3'));
      await ledger.close();
      expect(batches).to.deep.equal([2, 1, 1]);
    } finally {
      await close();
    }
  });
});

describe('@waygate/auth streamed text, counted for estimates', () => {
  it('counts the text of OpenAI content and reasoning deltas and Anthropic text and thinking deltas', () => {
    expect(textLength('{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"}}]}')).to.equal(5);
    expect(textLength('{"choices":[{"delta":{"reasoning_content":"think"}},{"delta":{"content":"ab"}}]}')).to.equal(7);
    expect(textLength('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}')).to.equal(8);
    expect(textLength('{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking": "hmm"}}')).to.equal(3);
  });

  it('reads a string to its closing quote past escaped quotes, and ignores keys inside strings and non-strings', () => {
    expect(textLength(String.raw`{"choices":[{"delta":{"content":"say \"hi\" \\"}}]}`)).to.equal(String.raw`say \"hi\" \\`.length);
    expect(textLength(String.raw`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"content\":\"xyz\"}"}}]}}]}`)).to.equal(0);
    expect(textLength('{"choices":[{"delta":{"content":null}}],"usage":{"prompt_tokens":3}}')).to.equal(0);
    expect(textLength('[DONE]')).to.equal(0);
    expect(textLength('{"choices":[{"delta":{"discontent":"no","content":"yes"}}]}')).to.equal(3);
    expect(textLength('{"choices":[{"delta":{"content":"cut off')).to.equal(7);
  });
});
