import { claimScanSize, SQLITE_WINDOW_FACTOR } from '../claimScan.js';
import { type ClaimedRow, toClaimed } from '../rows.js';
import type { ClaimedDelivery, ClaimOptions } from '../types.js';
import type { SqliteConn } from './db.js';

/**
 * A claim enters by endpoint: first the endpoints to serve, then each one's
 * oldest due deliveries through deliveries_endpoint_due (endpoint_id,
 * next_attempt_at, id), at most `perEndpointLimit` of them, then the oldest
 * `limit` of those. Its cost follows what it takes and how many endpoints it
 * looks at, never the size of a backlog: a global oldest-first walk that
 * skips saturated endpoints reads every due row of theirs (57 ms per claim
 * behind 200,000 of them here), and caps endpoints only after reading a
 * window several times the claim.
 *
 * Which endpoints:
 * - `onlyEndpointIds`: those;
 * - shallow: the endpoints among the oldest due deliveries of all (a bounded
 *   window read from deliveries_due, listen = 0 being its partial-index
 *   condition); a refill's usual look;
 * - otherwise (deep): every endpoint with pending deliveries, so that due
 *   work behind another endpoint's backlog is always found (the other kind's
 *   endpoints among them give nothing: `listen` is checked per delivery).
 * Excluded endpoints are dropped from any of these.
 */
const DUE_OF_ENDPOINT = [0, 1].map(
  (listen) => `
SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at, d.next_attempt_at AS due_at,
  e.body, e.livemode, w.url, w.secrets, w.last_success_at, w.failing_since, w.api_version
FROM deliveries d INDEXED BY deliveries_endpoint_due
JOIN events e ON e.id = d.event_id
JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE d.endpoint_id = @endpoint AND d.status = 'pending' AND d.listen = ${listen} AND w.status = 'enabled'
  AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until <= @now)
ORDER BY d.next_attempt_at, d.id
LIMIT @perEndpoint`,
);

const WINDOW_ENDPOINTS = `
SELECT DISTINCT endpoint_id AS id FROM (
  SELECT endpoint_id FROM deliveries
  WHERE status = 'pending' AND listen = 0 AND next_attempt_at <= @now
    AND (lease_until IS NULL OR lease_until <= @now)
  ORDER BY next_attempt_at, id
  LIMIT @scan
)`;

// The endpoints with pending deliveries, one index seek each (a skip scan of deliveries_endpoint_due): a deep
// claim's cost follows the endpoints that have work, not every endpoint there is.
const PENDING_ENDPOINTS = `
WITH RECURSIVE pending(id) AS (
  SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_endpoint_due WHERE status = 'pending')
  UNION ALL
  SELECT (SELECT MIN(endpoint_id) FROM deliveries INDEXED BY deliveries_endpoint_due
          WHERE status = 'pending' AND endpoint_id > pending.id)
  FROM pending WHERE pending.id IS NOT NULL
)
SELECT id FROM pending WHERE id IS NOT NULL`;

// next_attempt_at follows the lease: if the claimer never reports, the
// delivery is due again when the lease runs out, and nextDueAt says so.
const LEASE = `
UPDATE deliveries SET lease_until = @until, lease_owner = @owner, next_attempt_at = @until
WHERE id IN (SELECT value FROM json_each(@ids))`;

type DueRow = ClaimedRow & { due_at: number };

/** Claim due deliveries in one BEGIN IMMEDIATE transaction (SQLite has one writer). */
export function claimDue(conn: SqliteConn, o: ClaimOptions): ClaimedDelivery[] {
  if (o.limit <= 0 || o.perEndpointLimit <= 0) return [];
  const only = o.onlyEndpointIds;
  if (only !== undefined && only.length === 0) return [];
  const listen = o.listen === true;
  return conn.writeRelaxed(() => {
    let endpoints: string[];
    if (only !== undefined) endpoints = only;
    else if (o.shallow === true && !listen)
      endpoints = (
        conn.stmt(WINDOW_ENDPOINTS).all({
          now: o.now,
          scan: claimScanSize(o.limit, o.perEndpointLimit, SQLITE_WINDOW_FACTOR),
        }) as { id: string }[]
      ).map((r) => r.id);
    else endpoints = (conn.stmt(PENDING_ENDPOINTS).all() as { id: string }[]).map((r) => r.id);
    const excluded = new Set(o.excludeEndpointIds);
    const perEndpoint = Math.min(o.perEndpointLimit, o.limit);
    const due = conn.stmt(DUE_OF_ENDPOINT[listen ? 1 : 0]!);
    let rows: DueRow[] = [];
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      if (excluded.has(endpoint) || seen.has(endpoint)) continue;
      seen.add(endpoint);
      const got = due.all({ endpoint, now: o.now, perEndpoint }) as DueRow[];
      for (const r of got) rows.push(r);
    }
    if (rows.length === 0) return [];
    if (seen.size > 1) rows.sort(oldestFirst);
    if (rows.length > o.limit) rows = rows.slice(0, o.limit);
    conn.stmt(LEASE).run({
      until: o.now + o.leaseMs,
      owner: o.owner,
      ids: JSON.stringify(rows.map((r) => r.id)),
    });
    return rows.map((r) => toClaimed(r, o.now));
  });
}

function oldestFirst(a: DueRow, b: DueRow): number {
  return a.due_at - b.due_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
