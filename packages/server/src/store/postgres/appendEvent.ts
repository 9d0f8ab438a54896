import type { EventRecord, NewDelivery } from '../types.js';
import { mapWriteError, prepared, type Queryable } from './pool.js';

// One statement, so atomic without BEGIN/COMMIT round trips. The first attempt
// is scheduled when the delivery is created: nextAttemptAt is its creation time.
const APPEND = `
WITH event AS (
  INSERT INTO events (id, account_id, livemode, type, created_unix, body, request_id, idempotency_key)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  RETURNING id
)
INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at)
SELECT d.id, event.id, d.endpoint_id, 'pending', 0, d.at, d.at
FROM event, unnest($9::text[], $10::text[], $11::bigint[]) AS d (id, endpoint_id, at)`;

/** Store an event and its deliveries atomically; resolves after COMMIT. */
export async function appendEvent(db: Queryable, e: EventRecord, deliveries: NewDelivery[]): Promise<void> {
  try {
    await db.query(
      prepared('sb_append_event', APPEND, [
        e.id,
        e.accountId,
        e.livemode,
        e.type,
        e.createdUnix,
        e.body,
        e.requestId,
        e.idempotencyKey,
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.endpointId),
        deliveries.map((d) => d.nextAttemptAt),
      ]),
    );
  } catch (err) {
    throw mapWriteError(err, `Event ${e.id}`);
  }
}
