import { claimScanSize } from '../claimScan.js';
import { type ClaimedRow, toClaimed } from '../rows.js';
import type { ClaimedDelivery, ClaimOptions } from '../types.js';
import { prepared, type Queryable } from './pool.js';

/**
 * One statement. `candidates` walks the due rows oldest first and locks them
 * with SKIP LOCKED as it goes: rows another node is claiming right now are
 * passed over (so concurrent claimers split the due rows instead of colliding
 * on the same ones), and a row another node has just leased fails the
 * re-check on its new version. No row is claimed twice. ROW_NUMBER then caps
 * each endpoint; locked rows left out are released at the end of the
 * statement. next_attempt_at follows the lease: if the claimer never reports,
 * the delivery is due again when the lease runs out, and nextDueAt says so.
 *
 * The kind of delivery is written into the text rather than passed as a
 * parameter: a prepared statement's generic plan can then still use the
 * partial index deliveries_due (NOT listen), which the dispatcher's claim
 * walks as before listen sessions existed. A listen claim names its
 * endpoints and enters by deliveries_endpoint_pending.
 */
function claimSql(listen: boolean, only: boolean): string {
  return `
WITH candidates AS (
  SELECT d.id, d.endpoint_id, d.next_attempt_at
  FROM deliveries d
  WHERE d.status = 'pending'
    AND ${listen ? 'd.listen' : 'NOT d.listen'}
    AND d.next_attempt_at <= $1
    AND (d.lease_until IS NULL OR d.lease_until <= $1)
    AND NOT (d.endpoint_id = ANY ($2::text[]))${only ? '\n    AND d.endpoint_id = ANY ($8::text[])' : ''}
  ORDER BY d.next_attempt_at, d.id
  LIMIT $3
  FOR UPDATE SKIP LOCKED
), ranked AS (
  SELECT id, endpoint_id, next_attempt_at,
    ROW_NUMBER() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at, id) AS rn
  FROM candidates
), chosen AS (
  SELECT r.id, r.next_attempt_at AS due_at
  FROM ranked r
  WHERE r.rn <= $4 AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = r.endpoint_id)
  ORDER BY r.next_attempt_at, r.id
  LIMIT $5
), claimed AS (
  UPDATE deliveries d SET lease_until = $6, lease_owner = $7, next_attempt_at = $6
  FROM chosen c
  WHERE d.id = c.id
  RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at, c.due_at
)
SELECT c.id, c.event_id, c.endpoint_id, c.attempts, c.created_at,
  e.body, e.livemode, w.url, w.secrets, w.last_success_at
FROM claimed c
JOIN events e ON e.id = c.event_id
JOIN webhook_endpoints w ON w.id = c.endpoint_id
ORDER BY c.due_at, c.id`;
}

/** By [listen][only]: one prepared statement (name and text) per variant. */
const CLAIM = [
  [
    { name: 'sb_claim_due', text: claimSql(false, false) },
    { name: 'sb_claim_due_only', text: claimSql(false, true) },
  ],
  [
    { name: 'sb_claim_listen', text: claimSql(true, false) },
    { name: 'sb_claim_listen_only', text: claimSql(true, true) },
  ],
] as const;

/** Claim due deliveries; safe with several nodes claiming at once. */
export async function claimDue(db: Queryable, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  if (o.limit <= 0 || o.perEndpointLimit <= 0) return [];
  const only = o.onlyEndpointIds;
  if (only !== undefined && only.length === 0) return [];
  const statement = CLAIM[o.listen === true ? 1 : 0][only ? 1 : 0];
  const params: unknown[] = [
    o.now,
    o.excludeEndpointIds,
    claimScanSize(o.limit, o.perEndpointLimit, false),
    o.perEndpointLimit,
    o.limit,
    o.now + o.leaseMs,
    o.owner,
  ];
  if (only) params.push(only);
  const { rows } = await db.query<ClaimedRow>(prepared(statement.name, statement.text, params));
  return rows.map((r) => toClaimed(r, o.now));
}
