export { StoreError, type StoreErrorCode } from './errors.js';
export { openStore } from './open.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres/index.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
export type * from './types.js';
export { IDEMPOTENCY_IN_PROGRESS } from './types.js';
