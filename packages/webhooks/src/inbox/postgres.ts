// The inbox on PostgreSQL through a `pg` Pool the application creates
// itself. The pool is typed structurally (the few methods used), so the
// package does not depend on pg; any client with the same shape works.
import type { WebhookEvent } from '../events.js';
import {
  byCreated,
  COLUMNS,
  checkIdentifier,
  type DbNumber,
  DEFAULT_TABLE_PREFIX,
  eventColumns,
  leaseToken,
  num,
  type RawRow,
  toRecord,
  toStats,
  truncateError,
} from './storeShared.js';
import type {
  CompleteOutcome,
  CompleteResult,
  InboxRecord,
  InboxStats,
  InboxStore,
  Watermark,
} from './types.js';

/** What a query resolves to (the fields the inbox reads). */
export interface PgQueryResult {
  rows: unknown[];
  rowCount: number | null;
}

/** Anything that runs a parameterised query: a pool or a checked-out client. */
export interface PgQueryable {
  query(text: string, params?: unknown[]): Promise<PgQueryResult>;
}

/** A client checked out of the pool, for a transaction. */
export interface PgPoolClient extends PgQueryable {
  release(error?: Error | boolean): void;
}

/** The part of a `pg` Pool the inbox uses. A `new pg.Pool(...)` fits as is. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

export interface PostgresInboxOptions {
  /** Schema of the tables, created by `migrate()` if missing (default: the connection's search_path). */
  schema?: string;
  /** Prefix of the table names (default `webhook_`: tables `webhook_inbox`, `webhook_inbox_watermarks`). */
  tablePrefix?: string;
}

/**
 * An {@link InboxStore} on PostgreSQL. Any number of workers, in any number
 * of processes, may share it: claims skip rows another worker has locked.
 * Call `migrate()` once at startup.
 *
 * @example
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = createPostgresInbox(pool, { schema: 'webhooks' });
 * await store.migrate();
 * const inbox = createInbox({ store, router });
 */
export function createPostgresInbox(pool: PgPool, options: PostgresInboxOptions = {}): InboxStore {
  if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
    throw new TypeError('createPostgresInbox() needs a pg Pool (or an object with query() and connect()).');
  }
  const prefix = checkIdentifier(options.tablePrefix ?? DEFAULT_TABLE_PREFIX, 'The tablePrefix option', true);
  const schema =
    options.schema === undefined ? null : checkIdentifier(options.schema, 'The schema option', false);
  // Quoted, so the names are used exactly as given.
  const qualify = (name: string) => (schema === null ? `"${name}"` : `"${schema}"."${name}"`);
  const inbox = qualify(`${prefix}inbox`);
  const watermarks = qualify(`${prefix}inbox_watermarks`);
  const claimedColumns = COLUMNS.split(', ')
    .map((column) => `e.${column}`)
    .join(', ');

  const transaction = async <T>(fn: (client: PgQueryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const value = await fn(client);
      await client.query('COMMIT');
      client.release();
      return value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        // The connection is broken: tell the pool to discard it rather than reuse it.
        client.release(true);
      }
      throw error;
    }
  };
  const changed = (result: PgQueryResult) => (result.rowCount ?? 0) > 0;

  return {
    async migrate() {
      await transaction(async (client) => {
        // Serialises concurrent migrations: CREATE ... IF NOT EXISTS alone can
        // still collide on the catalog when two processes start together.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [inbox]);
        if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await client.query(`
          CREATE TABLE IF NOT EXISTS ${inbox} (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            account TEXT,
            livemode BOOLEAN NOT NULL,
            created BIGINT NOT NULL,
            body TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'processing', 'done', 'failed', 'dead', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT,
            last_error TEXT,
            lease_token TEXT,
            lease_until BIGINT,
            completed_at BIGINT,
            outcome TEXT
          )`);
        await client.query(
          `CREATE INDEX IF NOT EXISTS "${prefix}inbox_due" ON ${inbox} (status, next_attempt_at)`,
        );
        await client.query(`
          CREATE TABLE IF NOT EXISTS ${watermarks} (
            object_key TEXT PRIMARY KEY,
            last_applied_created BIGINT NOT NULL,
            last_applied_event_id TEXT NOT NULL,
            updated_at BIGINT NOT NULL
          )`);
      });
    },

    async receive(rawBody: string, event: WebhookEvent<unknown>, now: number) {
      const e = eventColumns(event);
      // One statement, so insert-if-absent is atomic without an explicit transaction.
      const result = await pool.query(
        `INSERT INTO ${inbox} (id, type, account, livemode, created, body, received_at, status, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $7)
         ON CONFLICT (id) DO NOTHING`,
        [e.id, e.type, e.account, e.livemode, e.created, rawBody, now],
      );
      return { duplicate: !changed(result) };
    },

    async claim(now: number, limit: number, leaseMs: number): Promise<InboxRecord[]> {
      const result = await pool.query(
        `UPDATE ${inbox} AS e
         SET status = 'processing', attempts = e.attempts + 1, lease_token = $1, lease_until = $2
         FROM (
           SELECT id FROM ${inbox}
           WHERE (status IN ('pending', 'failed') AND next_attempt_at <= $3)
              OR (status = 'processing' AND lease_until <= $3)
           ORDER BY created, id
           LIMIT $4
           FOR UPDATE SKIP LOCKED
         ) AS due
         WHERE e.id = due.id
         RETURNING ${claimedColumns}`,
        [leaseToken(), now + leaseMs, now, limit],
      );
      return (result.rows as RawRow[]).map(toRecord).sort(byCreated);
    },

    async complete(id: string, result: CompleteResult): Promise<CompleteOutcome> {
      return transaction(async (client) => {
        const params: unknown[] = [result.status, result.now, result.outcome ?? null, id];
        let sql = `UPDATE ${inbox}
          SET status = $1, completed_at = $2, outcome = $3, next_attempt_at = NULL, last_error = NULL,
              lease_token = NULL, lease_until = NULL
          WHERE id = $4 AND status = 'processing'`;
        if (result.lease !== undefined) {
          sql += ' AND lease_token = $5';
          params.push(result.lease);
        }
        if (!changed(await client.query(sql, params))) return { completed: false, advanced: false };
        const mark = result.watermark;
        if (mark === undefined) return { completed: true, advanced: false };
        // The conditional upsert reads the stored watermark (locking its row)
        // and only moves it forward.
        const advanced = changed(
          await client.query(
            `INSERT INTO ${watermarks} AS w (object_key, last_applied_created, last_applied_event_id, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (object_key) DO UPDATE SET
               last_applied_created = excluded.last_applied_created,
               last_applied_event_id = excluded.last_applied_event_id,
               updated_at = excluded.updated_at
             WHERE excluded.last_applied_created >= w.last_applied_created`,
            [mark.key, mark.created, mark.eventId, result.now],
          ),
        );
        return { completed: true, advanced };
      });
    },

    async fail(id: string, error: string, nextAttemptAt: number | null, lease?: string) {
      const params: unknown[] = [
        nextAttemptAt === null ? 'dead' : 'failed',
        nextAttemptAt,
        truncateError(error),
        id,
      ];
      let sql = `UPDATE ${inbox}
        SET status = $1, next_attempt_at = $2, last_error = $3, lease_token = NULL, lease_until = NULL
        WHERE id = $4 AND status = 'processing'`;
      if (lease !== undefined) {
        sql += ' AND lease_token = $5';
        params.push(lease);
      }
      return changed(await pool.query(sql, params));
    },

    async requeue(id: string, now: number) {
      return changed(
        await pool.query(
          `UPDATE ${inbox}
           SET status = 'pending', attempts = 0, next_attempt_at = $1, completed_at = NULL, outcome = NULL
           WHERE id = $2 AND status IN ('dead', 'failed', 'skipped')`,
          [now, id],
        ),
      );
    },

    async get(id: string) {
      const result = await pool.query(`SELECT ${COLUMNS} FROM ${inbox} WHERE id = $1`, [id]);
      const row = result.rows[0] as RawRow | undefined;
      return row === undefined ? null : toRecord(row);
    },

    async watermark(key: string): Promise<Watermark | null> {
      const result = await pool.query(
        `SELECT last_applied_created AS created, last_applied_event_id AS event_id FROM ${watermarks} WHERE object_key = $1`,
        [key],
      );
      const row = result.rows[0] as { created: DbNumber; event_id: string } | undefined;
      return row === undefined ? null : { created: num(row.created), eventId: row.event_id };
    },

    async stats(): Promise<InboxStats> {
      const result = await pool.query(`SELECT status, COUNT(*) AS n FROM ${inbox} GROUP BY status`);
      return toStats(result.rows as Array<{ status: string; n: DbNumber }>);
    },
  };
}
