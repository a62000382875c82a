// One store suite, run against both stores: SQLite (a file in a temporary directory) and PostgreSQL
// (DATABASE_URL, in a schema of this run's own; under CI=true a missing Postgres fails the suite).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TcpProxy } from '@waygate/core/testing';
import { MIGRATIONS, PostgresStore, SqliteStore, StoreUnavailable } from '../src/index.js';
import type { KeyRecord, SqlStore, TeamRecord } from '../src/index.js';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from './support.js';

const T0 = '2030-01-01T00:00:00.000Z';
const T1 = '2030-01-02T00:00:00.000Z';
const T2 = '2030-01-03T00:00:00.000Z';
const NONE = { models: null, providers: null, endpoints: null, config: null, metadata: null, rate_limit: null, budget: null };

const key = (id: string, extra: Partial<KeyRecord> = {}): KeyRecord => ({
  id,
  hash: 'a'.repeat(64),
  name: `key ${id}`,
  team: null,
  ...NONE,
  expires_at: null,
  created_at: T0,
  updated_at: T0,
  revoked_at: null,
  ...extra,
});
const team = (id: string, extra: Partial<TeamRecord> = {}): TeamRecord => ({ id, name: `team ${id}`, ...NONE, created_at: T0, updated_at: T0, ...extra });

interface Flavour {
  name: string;
  before?(suite: Mocha.Context): Promise<void>;
  open(): Promise<SqlStore>;
  cleanup(): Promise<void>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-auth-store-'));
const schema = runSchema('store');
const FLAVOURS: Flavour[] = [
  {
    name: 'SQLite',
    open: () => SqliteStore.open(path.join(dir, 'nested', 'waygate.sqlite')),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  },
  {
    name: 'PostgreSQL',
    before: (suite) => requirePostgres(suite, 'the PostgreSQL store tests'),
    open: () => PostgresStore.open({ url: DATABASE_URL, schema, timeoutMs: 2000, poolSize: 4 }),
    cleanup: () => dropSchema(schema),
  },
];

for (const flavour of FLAVOURS) {
  describe(`@waygate/auth store: ${flavour.name}`, () => {
    let store: SqlStore;
    let ran = false;

    before(async function () {
      await flavour.before?.(this);
      ran = true;
      store = await flavour.open();
    });
    after(async () => {
      await store?.close();
      if (ran) await flavour.cleanup();
    });

    it('creates its schema on first open, with every migration recorded under its owner in waygate_migrations', async () => {
      expect(await store.schemaVersions()).to.deep.equal(MIGRATIONS.map((m) => m.version));
    });

    it('applies nothing on a second open, and only the new one when a migration is added', async () => {
      const again = await flavour.open();
      try {
        expect(await again.migrate()).to.deep.equal([]);
        const next = {
          version: 999,
          name: 'test: a later migration',
          sqlite: 'CREATE TABLE {t:later} (x INTEGER)',
          postgres: 'CREATE TABLE {t:later} (x INTEGER)',
        };
        expect(await again.migrate([...MIGRATIONS, next])).to.deep.equal([999]);
        expect(await again.migrate([...MIGRATIONS, next])).to.deep.equal([]);
        expect(await again.schemaVersions()).to.deep.equal([...MIGRATIONS.map((m) => m.version), 999]);
      } finally {
        await again.close();
      }
    });

    it('keeps a key with every field as given, and refuses a second key with the same id', async () => {
      const rec = key('k1store', {
        models: ['gpt-4o*'],
        providers: ['openai'],
        endpoints: ['chat.completions'],
        config: { provider: 'openai' },
        metadata: { app: 'one', n: 1 },
        rate_limit: { requests_per_minute: 60, tokens_per_minute: 100000 },
        budget: { usd: 10, period: 'month' },
        expires_at: T2,
      });
      expect(await store.insertKey(rec)).to.equal(true);
      expect(await store.insertKey(key('k1store', { name: 'other' }))).to.equal(false);
      expect(await store.getKey('k1store')).to.deep.equal({ ...rec, version: 1 });
      expect(await store.getKey('nosuchid')).to.equal(undefined);
    });

    it('lists keys in creation order, by team, without revoked ones unless asked', async () => {
      expect(await store.insertTeam(team('listers'))).to.equal(true);
      await store.insertKey(key('l1', { team: 'listers', created_at: T0 }));
      await store.insertKey(key('l2', { team: 'listers', created_at: T1 }));
      await store.insertKey(key('l3', { team: 'listers', created_at: T2 }));
      await store.revokeKey('l2', T2);
      expect((await store.listKeys({ team: 'listers' })).map((k) => k.id)).to.deep.equal(['l1', 'l3']);
      expect((await store.listKeys({ team: 'listers', includeRevoked: true })).map((k) => k.id)).to.deep.equal(['l1', 'l2', 'l3']);
      expect((await store.listKeys()).map((k) => k.id))
        .to.include.members(['l1', 'l3'])
        .and.not.include('l2');
    });

    it('updates the given fields and updated_at, never a revoked key', async () => {
      await store.insertKey(key('u1'));
      const updated = await store.updateKey('u1', { name: 'renamed', models: ['a*'], budget: null }, T1);
      expect(updated).to.include({ name: 'renamed', updated_at: T1, created_at: T0 });
      expect(updated!.models).to.deep.equal(['a*']);
      await store.revokeKey('u1', T2);
      expect(await store.updateKey('u1', { name: 'too late' }, T2)).to.equal(undefined);
      expect((await store.getKey('u1'))!.name).to.equal('renamed');
      expect(await store.updateKey('nosuch', { name: 'x' }, T1)).to.equal(undefined);
    });

    it('counts each change in the version of a key and of its team, which stamp() gives in one small read', async () => {
      await store.insertTeam(team('stamped'));
      await store.insertKey(key('st1', { team: 'stamped' }));
      expect(await store.stamp('st1')).to.equal('1|1');
      await store.updateKey('st1', { name: 'a' }, T0);
      await store.updateKey('st1', { name: 'b' }, T0);
      expect(await store.stamp('st1')).to.equal('3|1');
      await store.updateTeam('stamped', { name: 'c' }, T0);
      await store.revokeKey('st1', T0);
      expect(await store.stamp('st1')).to.equal('4|2');
      expect((await store.getKey('st1'))!.version).to.equal(4);
      await store.insertKey(key('st2'));
      expect(await store.stamp('st2')).to.equal('1|');
      expect(await store.stamp('nosuch')).to.equal(undefined);
    });

    it('revokes once: a second revocation keeps the first time', async () => {
      await store.insertKey(key('r1'));
      expect((await store.revokeKey('r1', T1))!.revoked_at).to.equal(T1);
      expect((await store.revokeKey('r1', T2))!.revoked_at).to.equal(T1);
      expect(await store.revokeKey('nosuch', T1)).to.equal(undefined);
    });

    it('looks a key up with its team in one call', async () => {
      await store.insertTeam(team('lookers', { metadata: { tier: 'gold' }, models: ['m*'] }));
      await store.insertKey(key('lk1', { team: 'lookers' }));
      await store.insertKey(key('lk2'));
      const found = await store.lookup('lk1');
      expect(found!.key.id).to.equal('lk1');
      expect(found!.team).to.deep.include({ id: 'lookers', metadata: { tier: 'gold' }, models: ['m*'] });
      expect((await store.lookup('lk2'))!.team).to.equal(undefined);
      expect(await store.lookup('nosuch')).to.equal(undefined);
    });

    it('keeps teams: create, refuse a duplicate id, update, list', async () => {
      expect(await store.insertTeam(team('t-crud'))).to.equal(true);
      expect(await store.insertTeam(team('t-crud'))).to.equal(false);
      const up = await store.updateTeam('t-crud', { name: 'renamed', budget: { usd: 5, period: 'day' } }, T1);
      expect(up).to.deep.include({ name: 'renamed', budget: { usd: 5, period: 'day' }, updated_at: T1 });
      expect(await store.updateTeam('nosuch', { name: 'x' }, T1)).to.equal(undefined);
      expect((await store.listTeams()).map((t) => t.id)).to.include('t-crud');
    });

    it('deletes a team only when it has no active key; its revoked keys then have no team', async () => {
      await store.insertTeam(team('t-del'));
      await store.insertKey(key('d1', { team: 't-del' }));
      await store.insertKey(key('d2', { team: 't-del' }));
      expect(await store.deleteTeam('t-del')).to.equal(2);
      await store.revokeKey('d1', T1);
      await store.revokeKey('d2', T1);
      expect(await store.deleteTeam('t-del')).to.equal('deleted');
      expect(await store.getTeam('t-del')).to.equal(undefined);
      expect((await store.getKey('d1'))!.team).to.equal(null);
      expect(await store.deleteTeam('t-del')).to.equal('missing');
    });

    it('keeps spend rows in batches, sums a key’s or a team’s spend since a time, and reports it grouped and filtered', async () => {
      const row = (at: string, k: string, t: string | null, model: string, cost: number | null, extra: Record<string, unknown> = {}) => ({
        at,
        key_id: k,
        team: t,
        model,
        provider: 'openai',
        endpoint: 'chat.completions',
        prompt_tokens: 10,
        completion_tokens: 5,
        cached_tokens: 2,
        reasoning_tokens: 1,
        cost_usd: cost,
        estimated: false,
        ...extra,
      });
      await store.insertSpend([
        row(T0, 'sk1', 'red', 'gpt-a', 0.5),
        row(T1, 'sk1', 'red', 'gpt-b', 0.25),
        row(T1, 'sk2', 'red', 'gpt-a', null),
        row(T2, 'sk2', null, 'gpt-a', 1, { estimated: true }),
      ]);
      await store.insertSpend([]);
      expect(await store.spentSince('key', 'sk1', T0)).to.equal(0.75);
      expect(await store.spentSince('key', 'sk1', T1)).to.equal(0.25);
      expect(await store.spentSince('team', 'red', T0)).to.equal(0.75);
      expect(await store.spentSince('key', 'nobody', T0)).to.equal(0);
      const all = await store.spendReport({ from: T0, to: '2030-02-01T00:00:00.000Z', groupBy: [] });
      expect(all).to.deep.equal([
        {
          requests: 4,
          prompt_tokens: 40,
          completion_tokens: 20,
          cached_tokens: 8,
          reasoning_tokens: 4,
          cost_usd: 1.75,
          unpriced_requests: 1,
          estimated_requests: 1,
        },
      ]);
      const byModel = await store.spendReport({ from: T0, to: T2, groupBy: ['model'] });
      expect(byModel.map((g) => [g.model, g.requests, g.cost_usd, g.unpriced_requests])).to.deep.equal([
        ['gpt-a', 2, 0.5, 1],
        ['gpt-b', 1, 0.25, 0],
      ]);
      const byKeyTeam = await store.spendReport({ from: T0, to: T2, groupBy: ['key', 'team'], team: 'red', model: 'gpt-a' });
      expect(byKeyTeam.map((g) => [g.key, g.team, g.requests])).to.deep.equal([
        ['sk1', 'red', 1],
        ['sk2', 'red', 1],
      ]);
      expect(await store.spendReport({ from: T2, to: T2.replace('03', '04'), groupBy: ['provider'], key: 'sk1' })).to.deep.equal([]);
    });

    it('does not let a statement of another caller land inside a transaction that rolls back', async () => {
      const failing = {
        version: 998,
        name: 'test: fails half way',
        sqlite: 'CREATE TABLE {t:half} (x INTEGER);\nSELECT no_such_function()',
        postgres: 'CREATE TABLE {t:half} (x INTEGER);\nSELECT no_such_function()',
      };
      const [migrated, inserted] = await Promise.allSettled([store.migrate([...MIGRATIONS, failing]), store.insertKey(key('tx2'))]);
      expect(migrated.status).to.equal('rejected');
      expect(inserted).to.deep.equal({ status: 'fulfilled', value: true });
      expect(await store.getKey('tx2')).to.not.equal(undefined);
      expect(await store.schemaVersions()).to.not.include(998);
    });
  });
}

describe('@waygate/auth store: PostgreSQL replicas and outages', () => {
  const schema2 = runSchema('replicas');
  let ran = false;
  before(async function () {
    await requirePostgres(this, 'the PostgreSQL replica tests');
    ran = true;
  });
  after(async () => {
    if (ran) await dropSchema(schema2);
  });

  it('migrates once when several replicas start at the same time', async () => {
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url: DATABASE_URL, schema: schema2, timeoutMs: 5000, poolSize: 2 })));
    try {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      const rows = (await client.query(`SELECT version FROM "${schema2}".waygate_migrations WHERE owner = 'auth'`)).rows;
      await client.end();
      expect(rows.map((r) => r.version)).to.deep.equal(MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('fails a lookup with StoreUnavailable within its timeout when Postgres stops answering, and recovers', async () => {
    const u = new URL(DATABASE_URL);
    const proxy = await TcpProxy.start(u.hostname, Number(u.port || 5432));
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    const store = await PostgresStore.open({ url: u.href, schema: schema2, timeoutMs: 300, poolSize: 2 });
    try {
      await store.insertKey(key('out1'));
      proxy.freeze();
      const err = await store.lookup('out1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(StoreUnavailable);
      proxy.thaw();
      await proxy.cut();
      const refused = await store.getKey('out1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).to.be.instanceOf(StoreUnavailable);
      await proxy.resume();
      expect((await store.getKey('out1'))!.id).to.equal('out1');
    } finally {
      await store.close();
      await proxy.close();
    }
  });
});

describe('@waygate/auth store: SQLite file', () => {
  it('is created with its directory on first open, and another process sees what one writes (WAL)', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-auth-sqlite-'));
    const file = path.join(d, 'a', 'b', 'waygate.sqlite');
    try {
      const a = await SqliteStore.open(file);
      const b = await SqliteStore.open(file);
      await a.insertKey(key('shared'));
      expect((await b.getKey('shared'))!.id).to.equal('shared');
      await a.close();
      await b.close();
      const raw = new Database(file, { readonly: true });
      expect(raw.pragma('journal_mode', { simple: true })).to.equal('wal');
      raw.close();
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
