import type { ObjectRecord } from '../types.js';
import { bit, type SqliteConn } from './db.js';

// An object is written whole; where it lives, its kind and when it was created never change.
const UPSERT_OBJECT = `INSERT INTO objects (id, kind, account_id, livemode, created_unix, object, deleted, lookup_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET object = excluded.object, deleted = excluded.deleted, lookup_key = excluded.lookup_key`;

/** Create or replace emulated objects, inside the caller's transaction. */
export function putObjects(conn: SqliteConn, objects: readonly ObjectRecord[]): void {
  const upsert = conn.stmt(UPSERT_OBJECT);
  for (const o of objects) {
    upsert.run(
      o.id,
      o.kind,
      o.accountId,
      bit(o.livemode),
      o.createdUnix,
      JSON.stringify(o.object),
      bit(o.deleted),
      o.lookupKey,
    );
  }
}
