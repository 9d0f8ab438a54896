// The inbox on SQLite through a better-sqlite3 Database the application
// opens itself. Only the few methods used are typed here, structurally, so
// the package does not depend on better-sqlite3.
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

/** A prepared statement of better-sqlite3 (the methods the inbox uses). */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** A better-sqlite3 transaction function; `immediate` takes the write lock up front. */
export interface SqliteTransaction<T> {
  (): T;
  immediate?: () => T;
}

/**
 * The part of a better-sqlite3 `Database` the inbox uses. A `new Database(path)`
 * from better-sqlite3 fits as is.
 */
export interface SqliteDatabase {
  prepare(source: string): SqliteStatement;
  exec(source: string): unknown;
  transaction<T>(fn: () => T): SqliteTransaction<T>;
}

export interface SqliteInboxOptions {
  /** Prefix of the table names (default `webhook_`: tables `webhook_inbox`, `webhook_inbox_watermarks`). */
  tablePrefix?: string;
}

/**
 * An {@link InboxStore} on SQLite, in a database opened with better-sqlite3.
 * Call `migrate()` once at startup. For several processes on one file, open
 * it in WAL mode with a busy timeout.
 *
 * @example
 * import Database from 'better-sqlite3';
 * const db = new Database('app.db');
 * db.pragma('journal_mode = WAL');
 * const store = createSqliteInbox(db);
 * await store.migrate();
 * const inbox = createInbox({ store, router });
 */
export function createSqliteInbox(db: SqliteDatabase, options: SqliteInboxOptions = {}): InboxStore {
  if (db === null || typeof db !== 'object' || typeof db.prepare !== 'function') {
    throw new TypeError('createSqliteInbox() needs a better-sqlite3 Database.');
  }
  const prefix = checkIdentifier(options.tablePrefix ?? DEFAULT_TABLE_PREFIX, 'The tablePrefix option', true);
  const inbox = `${prefix}inbox`;
  const watermarks = `${prefix}inbox_watermarks`;

  // Statements are prepared once and reused; better-sqlite3 allows that.
  const cache = new Map<string, SqliteStatement>();
  const stmt = (sql: string): SqliteStatement => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
  // IMMEDIATE when available: a second process waits for the write lock
  // instead of failing halfway through with SQLITE_BUSY.
  const write = <T>(fn: () => T): T => {
    const tx = db.transaction(fn);
    return tx.immediate ? tx.immediate() : tx();
  };
  const changed = (result: { changes: number | bigint }) => Number(result.changes) > 0;

  return {
    async migrate() {
      write(() => {
        db.exec(`
          CREATE TABLE IF NOT EXISTS ${inbox} (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            account TEXT,
            livemode INTEGER NOT NULL,
            created INTEGER NOT NULL,
            body TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'processing', 'done', 'failed', 'dead', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_error TEXT,
            lease_token TEXT,
            lease_until INTEGER,
            completed_at INTEGER,
            outcome TEXT
          );
          CREATE INDEX IF NOT EXISTS ${inbox}_due ON ${inbox} (status, next_attempt_at);
          CREATE TABLE IF NOT EXISTS ${watermarks} (
            object_key TEXT PRIMARY KEY,
            last_applied_created INTEGER NOT NULL,
            last_applied_event_id TEXT NOT NULL,
            updated_at INTEGER NOT NULL
          );
        `);
      });
    },

    async receive(rawBody: string, event: WebhookEvent<unknown>, now: number) {
      const e = eventColumns(event);
      // One statement, so insert-if-absent is atomic without an explicit transaction.
      const result = stmt(
        `INSERT INTO ${inbox} (id, type, account, livemode, created, body, received_at, status, attempts, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
         ON CONFLICT (id) DO NOTHING`,
      ).run(e.id, e.type, e.account, e.livemode ? 1 : 0, e.created, rawBody, now, now);
      return { duplicate: !changed(result) };
    },

    async claim(now: number, limit: number, leaseMs: number): Promise<InboxRecord[]> {
      const rows = stmt(
        `UPDATE ${inbox}
         SET status = 'processing', attempts = attempts + 1, lease_token = ?, lease_until = ?
         WHERE id IN (
           SELECT id FROM ${inbox}
           WHERE (status IN ('pending', 'failed') AND next_attempt_at <= ?)
              OR (status = 'processing' AND lease_until <= ?)
           ORDER BY created, id
           LIMIT ?
         )
         RETURNING ${COLUMNS}`,
      ).all(leaseToken(), now + leaseMs, now, now, limit) as RawRow[];
      return rows.map(toRecord).sort(byCreated);
    },

    async complete(id: string, result: CompleteResult): Promise<CompleteOutcome> {
      return write(() => {
        const params: unknown[] = [result.status, result.now, result.outcome ?? null, id];
        let sql = `UPDATE ${inbox}
          SET status = ?, completed_at = ?, outcome = ?, next_attempt_at = NULL, last_error = NULL,
              lease_token = NULL, lease_until = NULL
          WHERE id = ? AND status = 'processing'`;
        if (result.lease !== undefined) {
          sql += ' AND lease_token = ?';
          params.push(result.lease);
        }
        if (!changed(stmt(sql).run(...params))) return { completed: false, advanced: false };
        const mark = result.watermark;
        if (mark === undefined) return { completed: true, advanced: false };
        // The conditional upsert reads the stored watermark and only moves it forward.
        const advanced = changed(
          stmt(
            `INSERT INTO ${watermarks} (object_key, last_applied_created, last_applied_event_id, updated_at)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (object_key) DO UPDATE SET
               last_applied_created = excluded.last_applied_created,
               last_applied_event_id = excluded.last_applied_event_id,
               updated_at = excluded.updated_at
             WHERE excluded.last_applied_created >= ${watermarks}.last_applied_created`,
          ).run(mark.key, mark.created, mark.eventId, result.now),
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
        SET status = ?, next_attempt_at = ?, last_error = ?, lease_token = NULL, lease_until = NULL
        WHERE id = ? AND status = 'processing'`;
      if (lease !== undefined) {
        sql += ' AND lease_token = ?';
        params.push(lease);
      }
      return changed(stmt(sql).run(...params));
    },

    async requeue(id: string, now: number) {
      return changed(
        stmt(
          `UPDATE ${inbox}
           SET status = 'pending', attempts = 0, next_attempt_at = ?, completed_at = NULL, outcome = NULL
           WHERE id = ? AND status IN ('dead', 'failed', 'skipped')`,
        ).run(now, id),
      );
    },

    async get(id: string) {
      const row = stmt(`SELECT ${COLUMNS} FROM ${inbox} WHERE id = ?`).get(id) as RawRow | undefined;
      return row === undefined ? null : toRecord(row);
    },

    async watermark(key: string): Promise<Watermark | null> {
      const row = stmt(
        `SELECT last_applied_created AS created, last_applied_event_id AS event_id FROM ${watermarks} WHERE object_key = ?`,
      ).get(key) as { created: DbNumber; event_id: string } | undefined;
      return row === undefined ? null : { created: num(row.created), eventId: row.event_id };
    },

    async stats(): Promise<InboxStats> {
      const rows = stmt(`SELECT status, COUNT(*) AS n FROM ${inbox} GROUP BY status`).all() as Array<{
        status: string;
        n: DbNumber;
      }>;
      return toStats(rows);
    },
  };
}
