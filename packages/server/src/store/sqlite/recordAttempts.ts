import { endpointHealth } from '../endpointHealth.js';
import type { AttemptResult } from '../types.js';
import { bit, type SqliteConn } from './db.js';

// An attempt whose event was pruned meanwhile is dropped rather than left orphaned;
// a repeated attempt id (a retried report) is ignored.
const INSERT_ATTEMPT = `
INSERT INTO delivery_attempts
  (id, delivery_id, event_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body, manual)
SELECT @id, @deliveryId, @eventId, @endpointId, @attemptedAt, @durationMs, @statusCode, @error, @responseBody, @manual
WHERE EXISTS (SELECT 1 FROM events WHERE id = @eventId)
ON CONFLICT (id) DO NOTHING`;

// Automatic outcomes apply only while the reporting node still holds the claim.
const HELD = `id = @id AND status = 'pending' AND lease_owner = @owner`;

const DELIVERED = `
UPDATE deliveries SET status = 'delivered', delivered_at = @at, attempts = attempts + 1,
  next_attempt_at = NULL, lease_until = NULL, lease_owner = NULL
WHERE ${HELD}`;

const RETRY = `
UPDATE deliveries SET next_attempt_at = @at, attempts = attempts + 1, lease_until = NULL, lease_owner = NULL
WHERE ${HELD}`;

const FAILED = `
UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
  next_attempt_at = NULL, lease_until = NULL, lease_owner = NULL
WHERE ${HELD}`;

// A resend leaves the count, the schedule and any lease alone: an automatic
// attempt in flight reports into a delivered row and changes nothing.
const MANUAL_DELIVERED = `
UPDATE deliveries SET status = 'delivered', delivered_at = @at
WHERE event_id = @eventId AND endpoint_id = @endpointId AND status <> 'delivered'`;

// last_success_at only moves forward; failing_since starts at the first failure after the last 2xx and ends
// with the next 2xx. An endpoint that is failing already is not written again.
const ENDPOINT_HEALTH = `
UPDATE webhook_endpoints SET
  last_success_at = CASE WHEN @ok IS NOT NULL AND (last_success_at IS NULL OR last_success_at < @ok)
    THEN @ok ELSE last_success_at END,
  failing_since = CASE
    WHEN @ok IS NOT NULL AND (failing_since IS NULL OR failing_since < @ok) THEN @fail
    WHEN failing_since IS NULL AND @fail IS NOT NULL AND (last_success_at IS NULL OR last_success_at < @fail)
      THEN @fail
    ELSE failing_since END
WHERE id = @id AND (@ok IS NOT NULL OR failing_since IS NULL)`;

const DISABLE_ENDPOINT = `
UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = @reason
WHERE id = @id AND status = 'enabled'`;

export const CANCEL_PENDING = `
UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL
WHERE endpoint_id = ? AND status = 'pending'`;

/**
 * A disabled endpoint's deliveries wait, due never; claims pass its endpoint
 * over. One in flight reports a time, but is not claimed again while disabled.
 */
export const PAUSE_PENDING = `
UPDATE deliveries SET next_attempt_at = NULL
WHERE endpoint_id = ? AND status = 'pending'`;

/** Enabled again before they gave up: the waiting deliveries are due at once, oldest first. */
export const RESUME_PAUSED = `
UPDATE deliveries SET next_attempt_at = created_at
WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at IS NULL`;

/** Record a batch of attempts and apply their outcomes in one transaction. */
export function recordAttempts(conn: SqliteConn, results: AttemptResult[]): void {
  if (results.length === 0) return;
  conn.writeRelaxed(() => {
    const insert = conn.stmt(INSERT_ATTEMPT);
    for (const { attempt: a } of results) {
      insert.run({
        id: a.id,
        deliveryId: a.deliveryId,
        eventId: a.eventId,
        endpointId: a.endpointId,
        attemptedAt: a.attemptedAt,
        durationMs: Math.round(a.durationMs),
        statusCode: a.statusCode,
        error: a.error,
        responseBody: a.responseBody,
        manual: bit(a.manual),
      });
    }

    const disable = new Map<string, string>();
    for (const { attempt: a, outcome, leaseOwner } of results) {
      if (outcome.kind === 'manual') {
        if (outcome.ok) {
          conn
            .stmt(MANUAL_DELIVERED)
            .run({ at: a.attemptedAt, eventId: a.eventId, endpointId: a.endpointId });
        }
        continue;
      }
      if (a.deliveryId === null || leaseOwner === null) continue;
      const held = { id: a.deliveryId, owner: leaseOwner };
      if (outcome.kind === 'delivered') {
        conn.stmt(DELIVERED).run({ ...held, at: a.attemptedAt });
      } else {
        const moved =
          outcome.kind === 'retry'
            ? conn.stmt(RETRY).run({ ...held, at: outcome.at }).changes > 0
            : conn.stmt(FAILED).run(held).changes > 0;
        if (moved && outcome.disableEndpoint) disable.set(a.endpointId, outcome.disableEndpoint.reason);
      }
    }

    for (const [id, h] of endpointHealth(results))
      conn.stmt(ENDPOINT_HEALTH).run({ id, ok: h.ok, fail: h.fail });
    for (const [id, reason] of disable) {
      if (conn.stmt(DISABLE_ENDPOINT).run({ id, reason }).changes > 0) conn.stmt(PAUSE_PENDING).run(id);
    }
  });
}
