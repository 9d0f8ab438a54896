import { claimScanSize, POSTGRES_WINDOW_FACTOR } from '../claimScan.js';
import { type ClaimedRow, toClaimed } from '../rows.js';
import type { ClaimedDelivery, ClaimOptions } from '../types.js';
import { prepared, type Queryable } from './pool.js';

type Source = 'only' | 'window' | 'all';

/**
 * One statement that enters by endpoint. `endpoints` picks the endpoints to
 * serve; for each, LATERAL reads its oldest due deliveries through
 * deliveries_endpoint_due and locks them with SKIP LOCKED, at most
 * `perEndpointLimit`: rows another node is claiming right now are passed over
 * (so concurrent claimers split the due rows instead of colliding on the same
 * ones), and a row another node has just leased fails the re-check on its new
 * version. No row is claimed twice. The oldest `limit` of those are leased;
 * the other locked rows are released at the end of the statement. A claim's
 * cost follows what it takes and the endpoints it looks at, never the size of
 * a backlog: a global oldest-first walk that skips a saturated endpoint reads
 * (and here locked) every due row of it, 47 ms per claim behind 200,000.
 *
 * Which endpoints: `only` the named ones; `window` the endpoints among the
 * oldest due deliveries of all (a bounded read of deliveries_due, unlocked);
 * `all` every endpoint of the claimed kind that has pending deliveries.
 * Excluded endpoints are dropped.
 * next_attempt_at follows the lease: if the claimer never reports, the
 * delivery is due again when the lease runs out, and nextDueAt says so.
 *
 * The kind of delivery (ordinary or listen) is the kind of its endpoint, so
 * it is chosen on the endpoints, written into the text. The LATERAL part
 * deliberately leaves `listen` out: with `NOT listen` there the planner may
 * walk deliveries_due instead (oldest first, filtering on the endpoint),
 * which its statistics favour when one endpoint holds most rows, and which
 * reads the whole backlog for any other endpoint.
 */
function claimSql(listen: boolean, source: Source): string {
  const kind = `w.listen_key IS ${listen ? 'NOT NULL' : 'NULL'}`;
  const endpointFilter =
    source === 'only'
      ? `w.id = ANY ($7::text[]) AND ${kind}`
      : source === 'window'
        ? `w.id IN (
      SELECT d.endpoint_id FROM deliveries d
      WHERE d.status = 'pending' AND NOT d.listen AND d.next_attempt_at <= $1
        AND (d.lease_until IS NULL OR d.lease_until <= $1)
      ORDER BY d.next_attempt_at, d.id
      LIMIT $7)`
        : `w.id IN (SELECT id FROM pending) AND ${kind}`;
  // The endpoints with pending deliveries, one index seek each (a skip scan of deliveries_endpoint_due): a deep
  // claim's cost follows the endpoints that have work, not every endpoint there is.
  const pending =
    source === 'all'
      ? `pending AS (
  SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status = 'pending' ORDER BY d.endpoint_id LIMIT 1) AS id
  UNION ALL
  SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status = 'pending' AND d.endpoint_id > pending.id
          ORDER BY d.endpoint_id LIMIT 1)
  FROM pending WHERE pending.id IS NOT NULL
), `
      : '';
  return `
WITH RECURSIVE ${pending}endpoints AS (
  SELECT w.id FROM webhook_endpoints w
  WHERE ${endpointFilter}
    AND w.status = 'enabled'
    AND NOT (w.id = ANY ($2::text[]))
), candidates AS (
  SELECT c.id, c.next_attempt_at
  FROM endpoints p
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at
    FROM deliveries d
    WHERE d.endpoint_id = p.id AND d.status = 'pending'
      AND d.next_attempt_at <= $1
      AND (d.lease_until IS NULL OR d.lease_until <= $1)
    ORDER BY d.next_attempt_at, d.id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  ) c
), chosen AS (
  SELECT id, next_attempt_at AS due_at FROM candidates
  ORDER BY next_attempt_at, id
  LIMIT $4
), claimed AS (
  -- By primary key, whatever the planner estimates: joined to chosen it may hash a scan of the whole table.
  UPDATE deliveries d SET lease_until = $5, lease_owner = $6, next_attempt_at = $5
  WHERE d.id = ANY (ARRAY(SELECT id FROM chosen))
  RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at
)
SELECT c.id, c.event_id, c.endpoint_id, c.attempts, c.created_at,
  e.body, e.livemode, w.url, w.secrets, w.last_success_at, w.failing_since, w.api_version
FROM claimed c
JOIN chosen ch ON ch.id = c.id
JOIN events e ON e.id = c.event_id
JOIN webhook_endpoints w ON w.id = c.endpoint_id
ORDER BY ch.due_at, c.id`;
}

/** The statements claims use: webhook deliveries from any source; listen ones never from the window (a
 * shallow claim is for webhook endpoints only). One prepared statement (name and text) each. */
const VARIANTS: ReadonlyArray<[listen: boolean, source: Source]> = [
  [false, 'only'],
  [false, 'window'],
  [false, 'all'],
  [true, 'only'],
  [true, 'all'],
];
const CLAIM = new Map(
  VARIANTS.map(([listen, source]) => [
    `${listen}:${source}`,
    { name: `sb_claim_${listen ? 'listen' : 'due'}_${source}`, text: claimSql(listen, source) },
  ]),
);

/** Claim due deliveries; safe with several nodes claiming at once. */
export async function claimDue(db: Queryable, o: ClaimOptions): Promise<ClaimedDelivery[]> {
  if (o.limit <= 0 || o.perEndpointLimit <= 0) return [];
  const only = o.onlyEndpointIds;
  if (only !== undefined && only.length === 0) return [];
  const listen = o.listen === true;
  const source: Source = only !== undefined ? 'only' : o.shallow === true && !listen ? 'window' : 'all';
  const statement = CLAIM.get(`${listen}:${source}`)!;
  const params: unknown[] = [
    o.now,
    o.excludeEndpointIds,
    Math.min(o.perEndpointLimit, o.limit),
    o.limit,
    o.now + o.leaseMs,
    o.owner,
  ];
  if (source === 'only') params.push(only);
  else if (source === 'window')
    params.push(claimScanSize(o.limit, o.perEndpointLimit, POSTGRES_WINDOW_FACTOR));
  const { rows } = await db.query<ClaimedRow>(prepared(statement.name, statement.text, params));
  return rows.map((r) => toClaimed(r, o.now));
}
