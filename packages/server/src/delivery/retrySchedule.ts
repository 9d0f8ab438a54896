/**
 * When a failed delivery is tried again. A schedule is the list of delays
 * after attempt 1, 2, …: a schedule of n delays allows n + 1 attempts.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Live mode: 12 attempts over about three days (Stripe: "up to three days
 * with an exponential back off"; the exact intervals are unpublished).
 */
export const DEFAULT_LIVE_SCHEDULE_MS: readonly number[] = Object.freeze([
  1 * MINUTE,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
  12 * HOUR,
  12 * HOUR,
  12 * HOUR,
  8 * HOUR,
]);

/** Test mode: three retries over about 2.6 hours (Stripe: "three times over the course of a few hours"). */
export const DEFAULT_TEST_SCHEDULE_MS: readonly number[] = Object.freeze([5 * MINUTE, 30 * MINUTE, 2 * HOUR]);

/** Default spread of each delay: ±20 %, so endpoints that failed together are not retried together. */
export const DEFAULT_RETRY_JITTER = 0.2;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };
const ITEM = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parse a schedule written as comma-separated durations with a unit each
 * (`ms`, `s`, `m`, `h`, `d`). `none` is the empty schedule: no retries.
 * Throws an Error naming the first item it cannot read.
 *
 * @example parseRetrySchedule('1s, 2s, 5m, 1h, 1d, 250ms') // [1000, 2000, 300000, 3600000, 86400000, 250]
 * @example parseRetrySchedule('none')                      // []
 */
export function parseRetrySchedule(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === 'none') return [];
  return trimmed.split(',').map((raw, i) => {
    const item = raw.trim();
    const match = ITEM.exec(item);
    if (!match) {
      const shown = item === '' ? `(empty item ${i + 1})` : `"${item}"`;
      throw new Error(
        `Invalid retry schedule item ${shown}: expected a duration such as 250ms, 30s, 5m, 2h or 1d, or the whole schedule "none".`,
      );
    }
    const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
    if (!Number.isSafeInteger(ms)) throw new Error(`Invalid retry schedule item "${item}": too large.`);
    return ms;
  });
}

/** Time from the first failed attempt to the last retry, before jitter. */
export function retryWindowMs(schedule: readonly number[]): number {
  return schedule.reduce((sum, delay) => sum + delay, 0);
}

export interface NextAttemptInput {
  /** The attempt that just failed, 1-based. */
  attempt: number;
  now: number;
  schedule: readonly number[];
  /** Fraction each delay may move either way; default 0.2. */
  jitter?: number;
  /** Uniform in [0, 1). */
  random: () => number;
  /** What the endpoint asked for with `Retry-After`, if anything. */
  retryAfterMs?: number | null;
}

/**
 * When to try again after attempt `attempt` failed, or `null` when the
 * schedule is exhausted and the delivery should be given up.
 *
 * The scheduled delay is spread by ±`jitter`. A `Retry-After` then acts as a
 * floor (the endpoint is never called earlier than it asked), but it cannot
 * push the retry past the longest delay of the schedule, so a hostile or
 * mistaken header cannot park a delivery indefinitely.
 *
 * @example nextAttemptAt({ attempt: 1, now: 0, schedule: [60_000], jitter: 0, random: Math.random }) // 60000
 * @example nextAttemptAt({ attempt: 2, now: 0, schedule: [60_000], random: Math.random })            // null
 */
export function nextAttemptAt(input: NextAttemptInput): number | null {
  const { attempt, now, schedule, random } = input;
  const jitter = input.jitter ?? DEFAULT_RETRY_JITTER;
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`attempt must be an integer ≥ 1, got ${attempt}`);
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);
  const scheduled = schedule[attempt - 1];
  if (scheduled === undefined) return null;
  let delay = scheduled * (1 + jitter * (2 * random() - 1));
  const retryAfter = input.retryAfterMs;
  if (retryAfter !== null && retryAfter !== undefined) {
    delay = Math.max(delay, Math.min(retryAfter, Math.max(...schedule)));
  }
  return Math.round(now + Math.max(0, delay));
}
