import type pg from 'pg';
import type { AccountChanges, EventRecord, JsonObject, NewDelivery } from '../types.js';
import { mapWriteError, prepared, type Queryable } from './pool.js';

// One statement for any number of events, atomic on its own. Deliveries name
// their event, inserted by the same statement: foreign keys are checked at its
// end. The first attempt is scheduled when the delivery is created:
// nextAttemptAt is its creation time. A delivery stored leased is due again at
// the end of its lease, as a claimed one is.
const APPEND = `
WITH inserted AS (
  INSERT INTO events (id, account_id, livemode, type, created_unix, body, request_id, idempotency_key)
  SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[], $6::text[], $7::text[],
    $8::text[])
)
INSERT INTO deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, listen,
  lease_until, lease_owner)
SELECT d.id, d.event_id, d.endpoint_id, 'pending', 0, coalesce(d.lease_until, d.at), d.at, d.listen,
  d.lease_until, d.lease_owner
FROM unnest($9::text[], $10::text[], $11::text[], $12::bigint[], $13::boolean[], $14::bigint[], $15::text[])
  AS d (id, event_id, endpoint_id, at, listen, lease_until, lease_owner)`;

/** One append on a connection of the caller's (inside its transaction). */
export async function appendOne(db: Queryable, event: EventRecord, deliveries: NewDelivery[]): Promise<void> {
  await db.query(prepared('sb_append_events', APPEND, params([{ event, deliveries }])));
}

/** `UPDATE accounts …` for an account's object, and its connection modes or deauthorization when given. */
export function updateAccountSql(
  id: string,
  object: JsonObject,
  changes: AccountChanges = {},
): { text: string; values: unknown[] } {
  const values: unknown[] = [id, JSON.stringify(object)];
  const sets = ['object = $2'];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (changes.connectedModes) {
    set('connected_test', changes.connectedModes.test);
    set('connected_live', changes.connectedModes.live);
  }
  if (changes.deauthorizedAt !== undefined) set('deauthorized_at', changes.deauthorizedAt);
  return { text: `UPDATE accounts SET ${sets.join(', ')} WHERE id = $1`, values };
}

/** Events per statement: bounds the size of one message to the server. */
const MAX_BATCH = 200;

interface Pending {
  event: EventRecord;
  deliveries: NewDelivery[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

function params(batch: Pick<Pending, 'event' | 'deliveries'>[]): unknown[] {
  const events = batch.map((p) => p.event);
  const deliveries = batch.flatMap((p) => p.deliveries.map((d) => ({ ...d, eventId: p.event.id })));
  return [
    events.map((e) => e.id),
    events.map((e) => e.accountId),
    events.map((e) => e.livemode),
    events.map((e) => e.type),
    events.map((e) => e.createdUnix),
    events.map((e) => e.body),
    events.map((e) => e.requestId),
    events.map((e) => e.idempotencyKey),
    deliveries.map((d) => d.id),
    deliveries.map((d) => d.eventId),
    deliveries.map((d) => d.endpointId),
    deliveries.map((d) => d.nextAttemptAt),
    deliveries.map((d) => d.listen === true),
    deliveries.map((d) => d.lease?.until ?? null),
    deliveries.map((d) => d.lease?.owner ?? null),
  ];
}

/**
 * Group commit, as on SQLite: the appends made in one tick go to the server as
 * one statement (one commit), and each promise settles after it. When the
 * statement fails (a duplicate id), each append is written again on its own,
 * so only the bad one is rejected.
 */
export class EventAppender {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly pool: pg.Pool) {}

  append(event: EventRecord, deliveries: NewDelivery[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, deliveries, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Send what is queued now; resolves when every write sent so far has settled. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.writing]);
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    for (let i = 0; i < queued.length; i += MAX_BATCH) {
      const write = this.write(queued.slice(i, i + MAX_BATCH));
      this.writing.add(write);
      void write.finally(() => this.writing.delete(write));
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.pool.query(prepared('sb_append_events', APPEND, params(batch)));
        for (const item of batch) item.resolve();
        return;
      } catch {
        // Find the bad append: below, each goes alone.
      }
    }
    await Promise.all(
      batch.map(async (item) => {
        try {
          await this.pool.query(prepared('sb_append_events', APPEND, params([item])));
          item.resolve();
        } catch (err) {
          item.reject(mapWriteError(err, `Event ${item.event.id}`));
        }
      }),
    );
  }
}
