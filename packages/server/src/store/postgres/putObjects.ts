import type { ObjectRecord } from '../types.js';
import { prepared, type Queryable } from './pool.js';

// One statement for any number of objects, atomic on its own. An object is written whole; where it lives, its
// kind and when it was created never change.
const UPSERT_OBJECTS = `
INSERT INTO objects (id, kind, account_id, livemode, created_unix, object, deleted, lookup_key)
SELECT id, kind, account_id, livemode, created_unix, object::json, deleted, lookup_key
FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::text[], $7::boolean[], $8::text[])
  AS o (id, kind, account_id, livemode, created_unix, object, deleted, lookup_key)
ON CONFLICT (id) DO UPDATE SET object = excluded.object, deleted = excluded.deleted, lookup_key = excluded.lookup_key`;

/** Create or replace emulated objects on a connection of the caller's (inside its transaction, if any). */
export async function putObjects(db: Queryable, objects: readonly ObjectRecord[]): Promise<void> {
  if (objects.length === 0) return;
  // One row per id (the last write wins): a statement may not change a row twice.
  const latest = [...new Map(objects.map((o) => [o.id, o])).values()];
  await db.query(
    prepared('sb_put_objects', UPSERT_OBJECTS, [
      latest.map((o) => o.id),
      latest.map((o) => o.kind),
      latest.map((o) => o.accountId),
      latest.map((o) => o.livemode),
      latest.map((o) => o.createdUnix),
      latest.map((o) => JSON.stringify(o.object)),
      latest.map((o) => o.deleted),
      latest.map((o) => o.lookupKey),
    ]),
  );
}
