import type { EventEffect, EventRecord, NewDelivery } from '../types.js';
import { bit, mapWriteError, type SqliteConn } from './db.js';
import { putObjects } from './putObjects.js';
import { completeSteps, scheduleSteps } from './scheduledSteps.js';
import { updateAccount } from './updateAccount.js';

const INSERT_EVENT = `INSERT INTO events (id, account_id, livemode, type, created_unix, body, request_id, idempotency_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

// The first attempt is scheduled when the delivery is created: nextAttemptAt is its creation time. A delivery
// stored leased is due again at the end of its lease, as a claimed one is.
const INSERT_DELIVERY = `INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, listen,
  lease_until, lease_owner)
VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)`;

interface Pending {
  event: EventRecord;
  deliveries: NewDelivery[];
  effect: EventEffect | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: the appends made in one tick are written in one transaction
 * on `setImmediate`, and each promise settles after its COMMIT. A batch that
 * fails (a duplicate id) is written again with one savepoint per append, so
 * only the bad append is rejected.
 */
export class EventAppender {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly conn: SqliteConn) {}

  append(event: EventRecord, deliveries: NewDelivery[], effect?: EventEffect): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, deliveries, effect, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Write what is queued now (also called before closing). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.conn.db.open) {
      for (const item of batch) item.reject(new Error('The store is closed'));
      return;
    }
    try {
      this.conn.write(() => {
        for (const item of batch) this.insert(item);
      });
      for (const item of batch) item.resolve();
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(mapWriteError(err, `Event ${batch[0]!.event.id}`));
        return;
      }
    }
    const failed = new Map<Pending, unknown>();
    try {
      this.conn.write(() => {
        for (const item of batch) {
          try {
            // Nested: a savepoint, rolled back alone when this append fails.
            this.conn.write(() => this.insert(item));
          } catch (err) {
            failed.set(item, err);
          }
        }
      });
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      if (failed.has(item)) item.reject(mapWriteError(failed.get(item), `Event ${item.event.id}`));
      else item.resolve();
    }
  }

  private insert({ event: e, deliveries, effect }: Pending): void {
    // In the same transaction (and savepoint) as the event: both or neither.
    if (effect?.account)
      updateAccount(this.conn, effect.account.id, effect.account.object, effect.account.changes);
    if (effect?.objects) putObjects(this.conn, effect.objects);
    if (effect?.scheduleSteps) scheduleSteps(this.conn, effect.scheduleSteps);
    if (effect?.completeSteps) completeSteps(this.conn, effect.completeSteps);
    this.conn
      .stmt(INSERT_EVENT)
      .run(e.id, e.accountId, bit(e.livemode), e.type, e.createdUnix, e.body, e.requestId, e.idempotencyKey);
    const insertDelivery = this.conn.stmt(INSERT_DELIVERY);
    for (const d of deliveries) {
      const lease = d.lease ?? null;
      insertDelivery.run(
        d.id,
        e.id,
        d.endpointId,
        lease ? lease.until : d.nextAttemptAt,
        d.nextAttemptAt,
        bit(d.listen === true),
        lease?.until ?? null,
        lease?.owner ?? null,
      );
    }
  }
}
