/**
 * @waygate/store: the SQL database plugins keep their data in. SQLite (one file, the embedded
 * default, no server) or PostgreSQL (shared by replicas), one connection per database per process,
 * migrations per owner, statements written once for both dialects.
 */
export { Database, StoreUnavailable, OWNER_RE } from './database.js';
export type { Migration, Queryable, Row } from './database.js';
export { SqliteDatabase } from './sqlite.js';
export { PostgresDatabase, SCHEMA_RE } from './postgres.js';
export type { PostgresSettings } from './postgres.js';
export { StoreSpecSchema, resolveStoreSpec, fromEnv, dataDir } from './spec.js';
export type { StoreSpec, ResolvedStore } from './spec.js';
export { acquireDatabase } from './lease.js';
export type { Lease } from './lease.js';
