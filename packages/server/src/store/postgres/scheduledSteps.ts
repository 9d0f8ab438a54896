import { type StepRow, toSteps } from '../rows.js';
import type { ClaimStepsOptions, ScheduledStep } from '../types.js';
import type { Queryable } from './pool.js';

const INSERT_STEPS = `
INSERT INTO scheduled_steps (id, kind, subject_id, account_id, livemode, due_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::bigint[])
ON CONFLICT (id) DO NOTHING`;

// Due and not leased (or the lease ran out), oldest first; nodes skip what another is claiming.
const CLAIM_STEPS = `
UPDATE scheduled_steps SET lease_until = $2
WHERE id IN (
  SELECT id FROM scheduled_steps
  WHERE due_at <= $4 AND (lease_until IS NULL OR lease_until <= $1)
    AND ($5::text IS NULL OR (account_id = $5 AND livemode = $6))
    AND ($7::text IS NULL OR subject_id = $7)
  ORDER BY due_at, id LIMIT $3
  FOR UPDATE SKIP LOCKED
)
RETURNING id, kind, subject_id, account_id, livemode, due_at`;

/** On a connection of the caller's (inside its transaction, if any). */
export async function scheduleSteps(db: Queryable, steps: readonly ScheduledStep[]): Promise<void> {
  if (steps.length === 0) return;
  await db.query(INSERT_STEPS, [
    steps.map((s) => s.id),
    steps.map((s) => s.kind),
    steps.map((s) => s.subjectId),
    steps.map((s) => s.accountId),
    steps.map((s) => s.livemode),
    steps.map((s) => s.dueAt),
  ]);
}

export async function completeSteps(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('DELETE FROM scheduled_steps WHERE id = ANY($1::text[])', [ids]);
}

export async function claimDueSteps(
  db: Queryable,
  now: number,
  leaseMs: number,
  limit: number,
  options: ClaimStepsOptions = {},
): Promise<ScheduledStep[]> {
  if (limit <= 0) return [];
  const { rows } = await db.query<StepRow>(CLAIM_STEPS, [
    now,
    now + leaseMs,
    limit,
    options.dueBy ?? now,
    options.scope?.accountId ?? null,
    options.scope?.livemode ?? false,
    options.scope?.subjectId ?? null,
  ]);
  return toSteps(rows);
}
