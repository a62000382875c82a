/** @waygate/auth/testing: the PostgreSQL helpers of `@waygate/store/testing`, for the auth plugin's tests and the gateway's. */
export { DATABASE_URL, dropSchema, postgresUnreachable, requirePostgres, runSchema } from '@waygate/store/testing';
