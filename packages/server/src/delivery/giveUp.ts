/**
 * The give-up rule: what happens after a failed attempt. Pure, beside the
 * retry schedule it follows.
 *
 * - The delivery is retried while its schedule lasts, then given up (`failed`).
 * - The endpoint is disabled only once it has answered no 2xx for
 *   `disableAfterMs` (default 3 days: Stripe disables after "multiple days"
 *   of failures), counted from its first failure since its last 2xx, in
 *   either mode: never within hours, test mode included. Disabling pauses its
 *   deliveries; enabled again, they resume.
 * - Listen sessions are never disabled (`disableAfterMs` null).
 */

import type { ClaimedDelivery, DeliveryOutcome } from '../store/types.js';
import { nextAttemptAt } from './retrySchedule.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_DISABLE_AFTER_MS = 3 * DAY_MS;

/** When a failing endpoint gets disabled if it stays failing. */
export const disablesAt = (failingSince: number, disableAfterMs: number): number =>
  failingSince + disableAfterMs;

export function failureOutcome(
  claimed: Pick<ClaimedDelivery, 'attempt' | 'livemode' | 'endpointFailingSince'>,
  now: number,
  retryAfterMs: number | null,
  schedules: { live: readonly number[]; test: readonly number[] },
  random: () => number,
  disableAfterMs: number | null,
): Extract<DeliveryOutcome, { kind: 'retry' | 'failed' }> {
  // This failure starts the run when the endpoint was healthy until now.
  const failingSince = claimed.endpointFailingSince ?? now;
  const disableEndpoint =
    disableAfterMs !== null && now >= disablesAt(failingSince, disableAfterMs)
      ? {
          reason: `no successful delivery since ${new Date(failingSince).toISOString()} (${formatDays(now - failingSince)} of failures)`,
        }
      : null;
  const at = nextAttemptAt({
    attempt: claimed.attempt,
    now,
    schedule: claimed.livemode ? schedules.live : schedules.test,
    random,
    retryAfterMs,
  });
  return at === null ? { kind: 'failed', disableEndpoint } : { kind: 'retry', at, disableEndpoint };
}

function formatDays(ms: number): string {
  const days = ms / DAY_MS;
  return days >= 1 ? `${Math.floor(days * 10) / 10} days` : `${Math.round(ms / 3_600_000)} hours`;
}

/** Warn about a failing endpoint at most this often. */
export const FAILING_WARNING_EVERY_MS = 3_600_000;

/**
 * What to log after a failed attempt, or null: that the endpoint was disabled
 * now, or (at most hourly, once half the allowance is gone) that it will be.
 */
export function failingWarning(
  failingSince: number | null,
  outcome: Extract<DeliveryOutcome, { kind: 'retry' | 'failed' }>,
  now: number,
  lastWarnedAt: number | null,
  disableAfterMs: number,
): { message: string; disablesAt: number } | null {
  if (failingSince === null) return null;
  if (outcome.disableEndpoint)
    return {
      message: 'endpoint disabled: no 2xx for too long',
      disablesAt: disablesAt(failingSince, disableAfterMs),
    };
  if (now - failingSince < disableAfterMs / 2) return null;
  if (lastWarnedAt !== null && now - lastWarnedAt < FAILING_WARNING_EVERY_MS) return null;
  return {
    message: 'endpoint failing: it will be disabled',
    disablesAt: disablesAt(failingSince, disableAfterMs),
  };
}
