import type pg from 'pg';
import { endpointHealth } from '../endpointHealth.js';
import type { AttemptResult } from '../types.js';
import { type PoolClient, prepared, retrying, transaction } from './pool.js';

// Multi-row statements over unnest()ed arrays: a batch costs the same few
// round trips whatever its size. An attempt whose event was pruned meanwhile
// is dropped rather than left orphaned; a repeated attempt id (a retried
// report) is ignored.
const INSERT_ATTEMPTS = `
INSERT INTO delivery_attempts
  (id, delivery_id, event_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body, manual)
SELECT a.id, a.delivery_id, a.event_id, a.endpoint_id, a.attempted_at, a.duration_ms, a.status_code,
  a.error, a.response_body, a.manual
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::int[], $8::text[],
  $9::text[], $10::boolean[])
  AS a (id, delivery_id, event_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body, manual)
WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = a.event_id)
ON CONFLICT (id) DO NOTHING`;

// Automatic outcomes apply only while the reporting node still holds the claim.
const APPLY_OUTCOMES = `
UPDATE deliveries d SET
  status = CASE r.kind WHEN 'delivered' THEN 'delivered' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
  attempts = d.attempts + 1,
  next_attempt_at = CASE r.kind WHEN 'retry' THEN r.at END,
  delivered_at = CASE r.kind WHEN 'delivered' THEN r.at ELSE d.delivered_at END,
  lease_until = NULL,
  lease_owner = NULL
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS r (id, owner, kind, at)
WHERE d.id = r.id AND d.status = 'pending' AND d.lease_owner = r.owner
RETURNING d.id`;

// A resend leaves the count, the schedule and any lease alone: an automatic
// attempt in flight reports into a delivered row and changes nothing.
const APPLY_RESENDS = `
UPDATE deliveries d SET status = 'delivered', delivered_at = r.at
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r (event_id, endpoint_id, at)
WHERE d.event_id = r.event_id AND d.endpoint_id = r.endpoint_id AND d.status <> 'delivered'`;

// last_success_at only moves forward; failing_since starts at the first failure after the last 2xx and ends
// with the next 2xx. An endpoint that is failing already is not written again. Endpoints come sorted by id,
// so concurrent batches lock the rows they share in the same order.
const ENDPOINT_HEALTH = `
UPDATE webhook_endpoints w SET
  last_success_at = CASE WHEN s.ok IS NOT NULL AND (w.last_success_at IS NULL OR w.last_success_at < s.ok)
    THEN s.ok ELSE w.last_success_at END,
  failing_since = CASE
    WHEN s.ok IS NOT NULL AND (w.failing_since IS NULL OR w.failing_since < s.ok) THEN s.fail
    WHEN w.failing_since IS NULL AND s.fail IS NOT NULL AND (w.last_success_at IS NULL OR w.last_success_at < s.fail)
      THEN s.fail
    ELSE w.failing_since END
FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS s (id, ok, fail)
WHERE w.id = s.id AND (s.ok IS NOT NULL OR w.failing_since IS NULL)`;

const DISABLE_ENDPOINTS = `
UPDATE webhook_endpoints w SET status = 'disabled', disabled_reason = x.reason
FROM unnest($1::text[], $2::text[]) AS x (id, reason)
WHERE w.id = x.id AND w.status = 'enabled'
RETURNING w.id`;

export const CANCEL_PENDING = `
UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL
WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'`;

/**
 * A disabled endpoint's deliveries wait, due never; claims pass its endpoint
 * over. One in flight reports a time, but is not claimed again while disabled.
 */
export const PAUSE_PENDING = `
UPDATE deliveries SET next_attempt_at = NULL
WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending'`;

/** Enabled again before they gave up: the waiting deliveries are due at once, oldest first. */
export const RESUME_PAUSED = `
UPDATE deliveries SET next_attempt_at = created_at
WHERE endpoint_id = ANY ($1::text[]) AND status = 'pending' AND next_attempt_at IS NULL`;

/**
 * Split results into rounds in which each delivery appears once: one UPDATE
 * … FROM cannot apply two results to the same row, and rounds keep their order.
 */
function rounds(results: AttemptResult[]): AttemptResult[][] {
  const out: AttemptResult[][] = [];
  let current: AttemptResult[] = [];
  let seen = new Set<string>();
  for (const r of results) {
    const key =
      r.outcome.kind === 'manual' ? `${r.attempt.eventId} ${r.attempt.endpointId}` : r.attempt.deliveryId;
    if (key === null) continue;
    if (seen.has(key)) {
      out.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(key);
    current.push(r);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Shift `$n` placeholders by `by`, to put several statements' parameters in one list. */
const shift = (sql: string, by: number) => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);

// The common batch (automatic outcomes, no endpoint to disable, no resend) in
// one statement, atomic on its own: one round trip, no BEGIN/COMMIT.
const FAST = `
WITH inserted AS (${INSERT_ATTEMPTS}),
moved AS (${shift(APPLY_OUTCOMES, 10)}),
health AS (${shift(ENDPOINT_HEALTH, 14)})
SELECT COUNT(*) AS moved FROM moved`;

function attemptParams(results: AttemptResult[]): unknown[] {
  const attempts = results.map((r) => r.attempt);
  return [
    attempts.map((a) => a.id),
    attempts.map((a) => a.deliveryId),
    attempts.map((a) => a.eventId),
    attempts.map((a) => a.endpointId),
    attempts.map((a) => a.attemptedAt),
    attempts.map((a) => Math.round(a.durationMs)),
    attempts.map((a) => a.statusCode),
    attempts.map((a) => a.error),
    attempts.map((a) => a.responseBody),
    attempts.map((a) => a.manual),
  ];
}

function outcomeParams(automatic: AttemptResult[]): unknown[] {
  return [
    automatic.map((r) => r.attempt.deliveryId),
    automatic.map((r) => r.leaseOwner),
    automatic.map((r) => r.outcome.kind),
    automatic.map(({ attempt, outcome }) => (outcome.kind === 'retry' ? outcome.at : attempt.attemptedAt)),
  ];
}

function healthParams(results: AttemptResult[]): [string[], (number | null)[], (number | null)[]] {
  const health = endpointHealth(results);
  return [health.map(([id]) => id), health.map(([, h]) => h.ok), health.map(([, h]) => h.fail)];
}

/** Results of automatic attempts whose delivery and claim are known: the ones that may move a delivery. */
const isAutomatic = (r: AttemptResult) =>
  r.outcome.kind !== 'manual' && r.leaseOwner !== null && r.attempt.deliveryId !== null;

/** Record a batch of attempts and apply their outcomes atomically. */
export async function recordAttempts(pool: pg.Pool, results: AttemptResult[]): Promise<void> {
  if (results.length === 0) return;
  const automatic = results.filter(isAutomatic);
  const simple =
    new Set(automatic.map((r) => r.attempt.deliveryId)).size === automatic.length &&
    !results.some(
      ({ outcome }) =>
        (outcome.kind === 'manual' && outcome.ok) ||
        ((outcome.kind === 'failed' || outcome.kind === 'retry') && Boolean(outcome.disableEndpoint)),
    );
  if (simple) {
    const params = [...attemptParams(results), ...outcomeParams(automatic), ...healthParams(results)];
    await retrying(() => pool.query(prepared('sb_record_attempts', FAST, params)));
    return;
  }
  await transaction(pool, (client) => recordInTransaction(client, results));
}

/** The general case, statement by statement inside one transaction. */
async function recordInTransaction(client: PoolClient, results: AttemptResult[]): Promise<void> {
  await client.query(prepared('sb_insert_attempts', INSERT_ATTEMPTS, attemptParams(results)));

  const reasons = new Map<string, string>();
  for (const round of rounds(results)) {
    const automatic = round.filter(isAutomatic);
    if (automatic.length > 0) {
      const { rows } = await client.query<{ id: string }>(
        prepared('sb_apply_outcomes', APPLY_OUTCOMES, outcomeParams(automatic)),
      );
      const moved = new Set(rows.map((row) => row.id));
      for (const { attempt, outcome } of automatic) {
        if (
          (outcome.kind === 'failed' || outcome.kind === 'retry') &&
          outcome.disableEndpoint &&
          moved.has(attempt.deliveryId!)
        ) {
          reasons.set(attempt.endpointId, outcome.disableEndpoint.reason);
        }
      }
    }
    const resends = round.filter((r) => r.outcome.kind === 'manual' && r.outcome.ok).map((r) => r.attempt);
    if (resends.length > 0) {
      await client.query(
        prepared('sb_apply_resends', APPLY_RESENDS, [
          resends.map((a) => a.eventId),
          resends.map((a) => a.endpointId),
          resends.map((a) => a.attemptedAt),
        ]),
      );
    }
  }

  const health = healthParams(results);
  if (health[0].length > 0) await client.query(prepared('sb_endpoint_health', ENDPOINT_HEALTH, health));
  if (reasons.size > 0) {
    const ids = [...reasons.keys()].sort();
    const { rows } = await client.query<{ id: string }>(
      prepared('sb_disable_endpoints', DISABLE_ENDPOINTS, [ids, ids.map((id) => reasons.get(id))]),
    );
    if (rows.length > 0)
      await client.query(prepared('sb_pause_pending', PAUSE_PENDING, [rows.map((r) => r.id)]));
  }
}
