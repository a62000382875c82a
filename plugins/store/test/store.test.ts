// The database layer against both dialects: SQLite (a file in a temporary directory) and PostgreSQL
// (DATABASE_URL, in a schema of this run's own; under CI=true a missing Postgres fails the suite).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostgresDatabase, SqliteDatabase, acquireDatabase, resolveStoreSpec } from '../src/index.js';
import type { Database, Migration } from '../src/index.js';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '../src/testing.js';

const both = (sql: string, version: number, name = `m${version}`): Migration => ({ version, name, sqlite: sql, postgres: sql });

interface Flavour {
  name: string;
  before(suite: Mocha.Context): Promise<void>;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-store-'));
const schema = runSchema('store');
const flavours: Flavour[] = [
  {
    name: 'SQLite',
    before: async () => undefined,
    open: () => SqliteDatabase.open(path.join(dir, 'one', 'db.sqlite')),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  },
  {
    name: 'PostgreSQL',
    before: (suite) => requirePostgres(suite, '@waygate/store'),
    open: () => PostgresDatabase.open({ url: DATABASE_URL, schema, timeoutMs: 2000, poolSize: 2 }),
    cleanup: () => dropSchema(schema),
  },
];

for (const flavour of flavours) {
  describe(`@waygate/store: ${flavour.name}`, function () {
    let db: Database;
    before(async function () {
      await flavour.before(this);
      db = await flavour.open();
    });
    after(async () => {
      await db?.close();
      await flavour.cleanup();
    });

    it('keeps migrations per owner: two owners with the same version numbers both apply, each once', async () => {
      expect(await db.migrate('alpha', [both('CREATE TABLE {t:alpha_items} (id TEXT PRIMARY KEY, n INTEGER)', 1)])).to.deep.equal([1]);
      expect(await db.migrate('beta', [both('CREATE TABLE {t:beta_items} (id TEXT PRIMARY KEY)', 1)])).to.deep.equal([1]);
      expect(await db.migrate('alpha', [both('CREATE TABLE {t:alpha_items} (id TEXT PRIMARY KEY, n INTEGER)', 1)])).to.deep.equal([]);
      expect(await db.migrate('alpha', [both('SELECT 1', 1), both('CREATE INDEX alpha_n ON {t:alpha_items} (n)', 2)])).to.deep.equal([2]);
      expect(await db.schemaVersions('alpha')).to.deep.equal([1, 2]);
      expect(await db.schemaVersions('beta')).to.deep.equal([1]);
    });

    it('runs statements with ? placeholders and {t:NAME} tables, and tells a duplicate key', async () => {
      await db.query('INSERT INTO {t:alpha_items} (id, n) VALUES (?, ?)', ['a', 1]);
      const dup = await db.query('INSERT INTO {t:alpha_items} (id, n) VALUES (?, ?)', ['a', 2]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(db.isDuplicate(dup), String(dup)).to.equal(true);
      expect(db.isDuplicate(new Error('other'))).to.equal(false);
      const rows = await db.query('SELECT id, n FROM {t:alpha_items} WHERE n >= ? AND id = ?', [1, 'a']);
      expect(rows.map((r) => [r.id, Number(r.n)])).to.deep.equal([['a', 1]]);
    });

    it('rolls a failed transaction back whole (and nothing another caller sent meanwhile), and a failed migration leaves no version behind', async () => {
      let outside: Promise<unknown> | undefined;
      const err = await db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO {t:alpha_items} (id, n) VALUES (?, ?)', ['tx', 1]);
          // Another caller's statement, sent while the transaction is open: not part of it.
          outside = db.query('INSERT INTO {t:alpha_items} (id, n) VALUES (?, ?)', ['outside', 1]);
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('abort');
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).to.equal('abort');
      await outside;
      expect(await db.query('SELECT id FROM {t:alpha_items} WHERE id IN (?, ?)', ['tx', 'outside'])).to.deep.equal([{ id: 'outside' }]);
      const broken = await db.migrate('alpha', [both('CREATE TABLE {t:alpha_three} (x INTEGER);\nNOT SQL AT ALL', 3)]).catch((e: unknown) => e);
      expect(broken).to.be.instanceOf(Error);
      expect(await db.schemaVersions('alpha')).to.deep.equal([1, 2]);
    });

    it('inserts many rows in one call, past the 500 rows of one statement, all or none', async () => {
      await db.migrate('gamma', [both('CREATE TABLE {t:gamma_rows} (id INTEGER PRIMARY KEY, label TEXT)', 1)]);
      const rows = Array.from({ length: 1203 }, (_, i) => [i, `row ${i}`]);
      await db.insertRows('gamma_rows', ['id', 'label'], rows);
      const [count] = await db.query('SELECT COUNT(*) AS n, MAX(id) AS top FROM {t:gamma_rows}');
      expect([Number(count!.n), Number(count!.top)]).to.deep.equal([1203, 1202]);
      // A duplicate in the last rows: nothing of the call is kept.
      const failed = await db
        .insertRows('gamma_rows', ['id', 'label'], [...Array.from({ length: 600 }, (_, i) => [5000 + i, 'x']), [0, 'dup']])
        .catch((e: unknown) => e);
      expect(db.isDuplicate(failed)).to.equal(true);
      const [after] = await db.query('SELECT COUNT(*) AS n FROM {t:gamma_rows}');
      expect(Number(after!.n)).to.equal(1203);
    });

    it("inserts rows of a table wide enough that SQLite's parameter limit bounds the rows of one statement, each row whole and in place", async () => {
      const columns = Array.from({ length: 100 }, (_, c) => `c${c}`);
      await db.migrate('wide', [both(`CREATE TABLE {t:wide_rows} (${columns.map((c) => `${c} INTEGER`).join(', ')})`, 1)]);
      // 333 rows of 100 values: 33,300 parameters, past SQLite's 32,766 in one statement.
      const rows = Array.from({ length: 333 }, (_, r) => columns.map((_, c) => r * 1000 + c));
      await db.insertRows('wide_rows', columns, rows);
      const got = await db.query('SELECT * FROM {t:wide_rows} ORDER BY c0');
      expect(got.map((r) => columns.map((c) => Number(r[c])))).to.deep.equal(rows);
      // Every size of statement once more (1 to 37 rows: 32 + 4 + 1, and below).
      for (let n = 1; n <= 37; n++)
        await db.insertRows(
          'wide_rows',
          columns,
          Array.from({ length: n }, () => columns.map(() => -n)),
        );
      const [count] = await db.query('SELECT COUNT(*) AS n, SUM(c99) AS s FROM {t:wide_rows} WHERE c0 < 0');
      expect([Number(count!.n), Number(count!.s)]).to.deep.equal([703, -Array.from({ length: 37 }, (_, i) => (i + 1) ** 2).reduce((a, b) => a + b)]);
    });

    it('adopts the versions of a database made before migrations were kept per owner, and refuses a bad owner name', async () => {
      await db.query('CREATE TABLE {t:schema_migrations} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      await db.query('INSERT INTO {t:schema_migrations} (version, name, applied_at) VALUES (?, ?, ?)', [1, 'old', '2030-01-01T00:00:00.000Z']);
      // Version 1 would fail if it ran again (its table exists): it must be taken over, not run.
      const legacy = [both('CREATE TABLE {t:alpha_items} (id TEXT)', 1), both('CREATE TABLE {t:legacy_two} (id TEXT)', 2)];
      expect(await db.migrate('legacy', legacy, true)).to.deep.equal([2]);
      expect(await db.schemaVersions('legacy')).to.deep.equal([1, 2]);
      const bad = await db.migrate('Bad Owner', legacy).catch((e: unknown) => e);
      expect((bad as Error).message).to.match(/invalid migration owner/);
    });
  });
}

describe('@waygate/store: sharing and defaults', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'waygate-store-lease-'));
  after(() => fs.rmSync(d, { recursive: true, force: true }));

  it('gives every holder of one database the same connection, and closes it at the last release', async () => {
    const spec = resolveStoreSpec({ type: 'sqlite', path: path.join(d, 'shared.sqlite') }, {});
    const a = await acquireDatabase(spec);
    const b = await acquireDatabase({ type: 'sqlite', path: path.join(d, '.', 'shared.sqlite'), timeoutMs: 2000 });
    expect(a.db).to.equal(b.db);
    await a.db.query('CREATE TABLE t (x INTEGER)');
    await a.release();
    await a.release(); // a second release of one lease is a no-op, not another holder's
    expect(await b.db.query('SELECT COUNT(*) AS n FROM t')).to.have.length(1);
    await b.release();
    const closed = await b.db.query('SELECT 1').catch((e: unknown) => e);
    expect(closed).to.be.instanceOf(Error);
    const c = await acquireDatabase(spec);
    expect(c.db).to.not.equal(a.db);
    expect(await c.db.query('SELECT COUNT(*) AS n FROM t')).to.have.length(1);
    await c.release();
  });

  it('defaults to PostgreSQL when DATABASE_URL is set, else the SQLite file in the data directory; names a missing variable', () => {
    expect(resolveStoreSpec(undefined, { WAYGATE_DATA_DIR: d })).to.deep.equal({ type: 'sqlite', path: path.join(d, 'waygate.sqlite'), timeoutMs: 2000 });
    expect(resolveStoreSpec({}, { DATABASE_URL: 'postgres://u@127.0.0.1/x' })).to.include({
      type: 'postgres',
      url: 'postgres://u@127.0.0.1/x',
      schema: 'waygate',
    });
    expect(resolveStoreSpec({ type: 'sqlite' }, { DATABASE_URL: 'postgres://u@127.0.0.1/x', WAYGATE_DATA_DIR: d }).type).to.equal('sqlite');
    expect(resolveStoreSpec({ url: 'env:MY_DB' }, { MY_DB: 'postgres://v@127.0.0.1/y' })).to.include({ url: 'postgres://v@127.0.0.1/y' });
    expect(() => resolveStoreSpec({ url: 'env:MY_DB' }, {})).to.throw(/store.url names environment variable MY_DB/);
    expect(() => resolveStoreSpec({ type: 'postgres' }, {})).to.throw(/no URL is set/);
    expect(() => resolveStoreSpec({ schema: 'Bad-Name' } as never, {})).to.throw(/lower-case/);
  });
});
