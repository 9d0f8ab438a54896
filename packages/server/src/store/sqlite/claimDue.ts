import { claimScanSize } from '../claimScan.js';
import { type ClaimedRow, toClaimed } from '../rows.js';
import type { ClaimedDelivery, ClaimOptions } from '../types.js';
import type { SqliteConn } from './db.js';

/**
 * The claim query for one kind of delivery, restricted to given endpoints or
 * not. The kind is a literal rather than a parameter so that the planner can
 * match the partial index deliveries_due (listen = 0): the dispatcher's claim
 * walks it oldest first, as before listen sessions existed. A listen claim
 * names its endpoints and enters by deliveries_endpoint_pending. ROW_NUMBER
 * caps each endpoint; the joins bring what sending needs.
 *
 * Excluded endpoints are either looked past (deep: every due row of theirs is
 * read, 20 ms with 20,000 of them) or dropped from the window (shallow:
 * bounded, but other endpoints' rows behind them wait for a deep claim).
 */
function selectDue(listen: boolean, only: boolean, shallow: boolean): string {
  const exclude = 'endpoint_id NOT IN (SELECT value FROM json_each(@exclude))';
  return `
WITH candidates AS (
  SELECT d.id, d.endpoint_id, d.next_attempt_at
  FROM deliveries d
  WHERE d.status = 'pending'
    AND d.listen = ${listen ? 1 : 0}
    AND d.next_attempt_at <= @now
    AND (d.lease_until IS NULL OR d.lease_until <= @now)${shallow ? '' : `\n    AND d.${exclude}`}${
      only ? '\n    AND d.endpoint_id IN (SELECT value FROM json_each(@only))' : ''
    }
  ORDER BY d.next_attempt_at, d.id
  LIMIT @scan
), ranked AS (
  SELECT id, next_attempt_at,
    ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn
  FROM candidates${shallow ? `\n  WHERE ${exclude}` : ''}
)
SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at,
  e.body, e.livemode, w.url, w.secrets, w.last_success_at
FROM ranked r
JOIN deliveries d ON d.id = r.id
JOIN events e ON e.id = d.event_id
JOIN webhook_endpoints w ON w.id = d.endpoint_id
WHERE r.rn <= @perEndpoint
ORDER BY r.next_attempt_at, r.id
LIMIT @limit`;
}

// By [listen][only][shallow], built once: the statement cache keys on the SQL text.
const SELECT_DUE = [false, true].map((listen) =>
  [false, true].map((only) => [false, true].map((shallow) => selectDue(listen, only, shallow))),
);

// next_attempt_at follows the lease: if the claimer never reports, the
// delivery is due again when the lease runs out, and nextDueAt says so.
const LEASE = `
UPDATE deliveries SET lease_until = @until, lease_owner = @owner, next_attempt_at = @until
WHERE id IN (SELECT value FROM json_each(@ids))`;

/** Claim due deliveries in one BEGIN IMMEDIATE transaction (SQLite has one writer). */
export function claimDue(conn: SqliteConn, o: ClaimOptions): ClaimedDelivery[] {
  if (o.limit <= 0 || o.perEndpointLimit <= 0) return [];
  const only = o.onlyEndpointIds;
  if (only !== undefined && only.length === 0) return [];
  // Shallow: the window is the oldest due deliveries of every endpoint, excluded ones dropped after, so a
  // claim reads at most `scan` rows. Deep: excluded endpoints' rows are looked past, however many there are.
  const shallow = o.shallow === true && o.excludeEndpointIds.length > 0;
  const sql = SELECT_DUE[o.listen === true ? 1 : 0]![only ? 1 : 0]![shallow ? 1 : 0]!;
  return conn.writeRelaxed(() => {
    const rows = conn.stmt(sql).all({
      now: o.now,
      exclude: JSON.stringify(o.excludeEndpointIds),
      ...(only ? { only: JSON.stringify(only) } : {}),
      scan: claimScanSize(o.limit, o.perEndpointLimit, true),
      perEndpoint: o.perEndpointLimit,
      limit: o.limit,
    }) as ClaimedRow[];
    if (rows.length === 0) return [];
    conn.stmt(LEASE).run({
      until: o.now + o.leaseMs,
      owner: o.owner,
      ids: JSON.stringify(rows.map((r) => r.id)),
    });
    return rows.map((r) => toClaimed(r, o.now));
  });
}
