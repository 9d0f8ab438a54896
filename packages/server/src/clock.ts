/**
 * Time is a parameter: everything that schedules, signs or expires takes a
 * Clock so tests can drive it instead of sleeping.
 */
export type Clock = () => number;

/** Milliseconds since the epoch, from the system. */
export const systemClock: Clock = () => Date.now();

/** Unix seconds for a millisecond timestamp (Stripe's `created`, the `t=` of a signature). */
export const toUnixSeconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * A clock tests can move by hand.
 *
 * @example
 * const clock = manualClock(Date.UTC(2026, 0, 1));
 * clock.advance(60_000); // one minute later
 */
export function manualClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = startMs;
  const clock = (() => now) as Clock & { advance(ms: number): void; set(ms: number): void };
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (ms: number) => {
    now = ms;
  };
  return clock;
}
