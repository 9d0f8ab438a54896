import { type StepRow, toSteps } from '../rows.js';
import type { ClaimStepsOptions, ScheduledStep } from '../types.js';
import { bit, type SqliteConn } from './db.js';

const INSERT_STEP = `INSERT INTO scheduled_steps (id, kind, subject_id, account_id, livemode, due_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;

const DELETE_STEP = 'DELETE FROM scheduled_steps WHERE id = ?';

// Due and not leased (or the lease ran out), oldest first.
const CLAIM_STEPS = `
UPDATE scheduled_steps SET lease_until = @until
WHERE id IN (
  SELECT id FROM scheduled_steps
  WHERE due_at <= @dueBy AND (lease_until IS NULL OR lease_until <= @now)
    AND (@account IS NULL OR (account_id = @account AND livemode = @livemode))
    AND (@subject IS NULL OR subject_id = @subject)
  ORDER BY due_at, id LIMIT @limit
)
RETURNING id, kind, subject_id, account_id, livemode, due_at`;

/** Inside the caller's transaction. */
export function scheduleSteps(conn: SqliteConn, steps: readonly ScheduledStep[]): void {
  const insert = conn.stmt(INSERT_STEP);
  for (const s of steps) insert.run(s.id, s.kind, s.subjectId, s.accountId, bit(s.livemode), s.dueAt);
}

/** Inside the caller's transaction. */
export function completeSteps(conn: SqliteConn, ids: readonly string[]): void {
  const del = conn.stmt(DELETE_STEP);
  for (const id of ids) del.run(id);
}

export function claimDueSteps(
  conn: SqliteConn,
  now: number,
  leaseMs: number,
  limit: number,
  options: ClaimStepsOptions = {},
): ScheduledStep[] {
  if (limit <= 0) return [];
  const params = {
    now,
    dueBy: options.dueBy ?? now,
    until: now + leaseMs,
    limit,
    account: options.scope?.accountId ?? null,
    livemode: options.scope ? bit(options.scope.livemode) : 0,
    subject: options.scope?.subjectId ?? null,
  };
  const rows = conn.writeRelaxed(() => conn.stmt(CLAIM_STEPS).all(params) as StepRow[]);
  return toSteps(rows);
}
