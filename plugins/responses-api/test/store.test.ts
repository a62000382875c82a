// Stored responses expire: past the age limit one is never served, and prune() deletes it. The same
// tests over SQLite and PostgreSQL (the stores a deployment uses).
import { expect } from 'chai';
import { PostgresDatabase, SqliteDatabase } from '@waygate/store';
import type { Database } from '@waygate/store';
import { DATABASE_URL, dropSchema, requirePostgres, runSchema } from '@waygate/store/testing';
import { MIGRATIONS, ResponseStore, ResponsesOptionsSchema } from '../src/index.js';

const DAY_MS = 86_400_000;
const response = (id: string, daysAgo: number) => ({ id, object: 'response', created_at: Math.floor((Date.now() - daysAgo * DAY_MS) / 1000), output: [] });

const BACKENDS: Array<{ name: string; open(suite: Mocha.Context): Promise<Database>; cleanup(): Promise<void> }> = [
  { name: 'SQLite', open: () => SqliteDatabase.open(':memory:'), cleanup: async () => {} },
  (() => {
    const schema = runSchema('responses_store');
    return {
      name: 'PostgreSQL',
      async open(suite: Mocha.Context) {
        await requirePostgres(suite, 'the stored-responses tests');
        return PostgresDatabase.open({ url: DATABASE_URL, schema, timeoutMs: 5000, poolSize: 2 });
      },
      cleanup: () => dropSchema(schema),
    };
  })(),
];

describe('@waygate/responses-api: stored responses expire', () => {
  it('keeps them 30 days by default, checked hourly; bad retention options are refused', () => {
    expect(ResponsesOptionsSchema.parse({}).retention).to.deep.equal({ maxAgeDays: 30, pruneEveryMs: 3_600_000 });
    expect(ResponsesOptionsSchema.parse({ retention: { maxAgeDays: null } }).retention.maxAgeDays).to.equal(null);
    expect(ResponsesOptionsSchema.safeParse({ retention: { maxAgeDays: 0 } }).success).to.equal(false);
    expect(ResponsesOptionsSchema.safeParse({ retention: { keepForever: true } }).success).to.equal(false);
  });

  for (const backend of BACKENDS) {
    describe(`on ${backend.name}`, () => {
      let db: Database | undefined;
      before(async function () {
        db = await backend.open(this);
        await db.migrate('responses-api', MIGRATIONS);
      });
      after(async () => {
        await db?.close();
        await backend.cleanup();
      });

      it('never serves a response past the limit, and prune() deletes only those', async () => {
        const store = new ResponseStore(db!, 30 * DAY_MS);
        for (const [id, days] of [
          ['resp_old', 31],
          ['resp_new', 29],
        ] as const)
          await store.save('key-a', { response: response(id, days), input: [] });
        expect(await store.get('key-a', 'resp_old')).to.equal(undefined);
        expect((await store.get('key-a', 'resp_new'))?.response.id).to.equal('resp_new');
        // Without a limit the old one is still in the table: the limit, not a lost row, hid it.
        const unlimited = new ResponseStore(db!);
        expect((await unlimited.get('key-a', 'resp_old'))?.response.id).to.equal('resp_old');
        expect(await unlimited.prune()).to.equal(0);
        expect(await store.prune()).to.equal(1);
        expect(await unlimited.get('key-a', 'resp_old')).to.equal(undefined);
        expect((await unlimited.get('key-a', 'resp_new'))?.response.id).to.equal('resp_new');
      });
    });
  }
});
