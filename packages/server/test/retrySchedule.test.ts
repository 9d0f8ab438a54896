import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIVE_SCHEDULE_MS,
  DEFAULT_TEST_SCHEDULE_MS,
  nextAttemptAt,
  parseRetrySchedule,
  retryWindowMs,
} from '../src/delivery/retrySchedule.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const fixed = (value: number) => () => value;

describe('default schedules', () => {
  it('live: 12 attempts over about three days', () => {
    expect(DEFAULT_LIVE_SCHEDULE_MS).toEqual([
      MIN,
      5 * MIN,
      30 * MIN,
      2 * HOUR,
      5 * HOUR,
      10 * HOUR,
      10 * HOUR,
      12 * HOUR,
      12 * HOUR,
      12 * HOUR,
      8 * HOUR,
    ]);
    expect(DEFAULT_LIVE_SCHEDULE_MS.length + 1).toBe(12);
    const days = retryWindowMs(DEFAULT_LIVE_SCHEDULE_MS) / (24 * HOUR);
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThanOrEqual(3);
  });

  it('test: three retries over about 2.6 hours', () => {
    expect(DEFAULT_TEST_SCHEDULE_MS).toEqual([5 * MIN, 30 * MIN, 2 * HOUR]);
    expect(retryWindowMs(DEFAULT_TEST_SCHEDULE_MS) / HOUR).toBeCloseTo(2.583, 2);
  });

  it('cannot be changed by a caller', () => {
    expect(Object.isFrozen(DEFAULT_LIVE_SCHEDULE_MS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_TEST_SCHEDULE_MS)).toBe(true);
  });
});

describe('parseRetrySchedule', () => {
  it.each([
    ['1s,2s,5m,1h,1d,250ms', [1000, 2000, 5 * MIN, HOUR, 24 * HOUR, 250]],
    [' 1s , 2s ', [1000, 2000]],
    ['1.5h', [1.5 * HOUR]],
    ['0s', [0]],
    ['10m', [10 * MIN]],
    ['none', []],
    [' none ', []],
  ] as [string, number[]][])('%j → %j', (text, expected) => {
    expect(parseRetrySchedule(text)).toEqual(expected);
  });

  it.each([
    ['', /empty item 1/],
    ['   ', /empty item 1/],
    ['1s,,2s', /empty item 2/],
    ['1s,', /empty item 2/],
    ['5', /"5"/],
    ['1s,5x', /"5x"/],
    ['-1s', /"-1s"/],
    ['1 s', /"1 s"/],
    ['1H', /"1H"/],
    ['NONE', /"NONE"/],
    ['none,1s', /"none"/],
    ['.5s', /".5s"/],
    ['1e3ms', /"1e3ms"/],
    ['99999999999999999999d', /too large/],
  ] as [string, RegExp][])('rejects %j', (text, message) => {
    expect(() => parseRetrySchedule(text)).toThrow(message);
  });
});

describe('retryWindowMs', () => {
  it.each([
    [[], 0],
    [[1000], 1000],
    [[1000, 2000, 3000], 6000],
  ] as [number[], number][])('%j → %d', (schedule, expected) => {
    expect(retryWindowMs(schedule)).toBe(expected);
  });
});

describe('nextAttemptAt', () => {
  const schedule = [MIN, 10 * MIN, HOUR];
  const now = 1_700_000_000_000;

  it.each([
    // attempt, random, jitter, retryAfterMs, expected delay (null = give up)
    ['attempt 1, no jitter', 1, 0.5, 0, undefined, MIN],
    ['attempt 2, no jitter', 2, 0.5, 0, undefined, 10 * MIN],
    ['attempt 3, no jitter', 3, 0.5, 0, undefined, HOUR],
    ['exhausted after the last delay', 4, 0.5, 0, undefined, null],
    ['far past the end', 40, 0.5, 0.2, undefined, null],
    ['default jitter, random at the middle', 1, 0.5, undefined, undefined, MIN],
    ['default jitter, random 0 → −20 %', 1, 0, undefined, undefined, 0.8 * MIN],
    ['default jitter, random near 1 → almost +20 %', 1, 0.999999, undefined, undefined, 1.2 * MIN],
    ['jitter 0.1, random 0.75 → +5 %', 2, 0.75, 0.1, undefined, 10.5 * MIN],
    ['Retry-After shorter than the delay is a no-op', 2, 0.5, 0, 30_000, 10 * MIN],
    ['Retry-After longer than the delay wins', 1, 0.5, 0, 5 * MIN, 5 * MIN],
    ['Retry-After is not jittered below', 1, 0, 0.2, 5 * MIN, 5 * MIN],
    ['Retry-After capped at the largest delay', 1, 0.5, 0, 24 * HOUR, HOUR],
    ['Retry-After null is ignored', 1, 0.5, 0, null, MIN],
    ['Retry-After 0 is ignored', 1, 0.5, 0, 0, MIN],
    ['Retry-After does not revive an exhausted schedule', 4, 0.5, 0, 5 * MIN, null],
  ] as [string, number, number, number | undefined, number | null | undefined, number | null][])(
    '%s',
    (_name, attempt, random, jitter, retryAfterMs, expected) => {
      const at = nextAttemptAt({
        attempt,
        now,
        schedule,
        random: fixed(random),
        ...(jitter === undefined ? {} : { jitter }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
      if (expected === null) expect(at).toBeNull();
      else expect(at).toBe(Math.round(now + expected));
    },
  );

  it('an empty schedule never retries', () => {
    expect(nextAttemptAt({ attempt: 1, now, schedule: [], random: Math.random })).toBeNull();
  });

  it('stays within ±jitter for any random value', () => {
    for (let r = 0; r < 1; r += 0.01) {
      const at = nextAttemptAt({ attempt: 3, now, schedule, random: fixed(r) })!;
      expect(at - now).toBeGreaterThanOrEqual(0.8 * HOUR);
      expect(at - now).toBeLessThanOrEqual(1.2 * HOUR);
    }
  });

  it.each([
    [{ attempt: 0 }, /attempt/],
    [{ attempt: 1.5 }, /attempt/],
    [{ attempt: 1, jitter: 1 }, /jitter/],
    [{ attempt: 1, jitter: -0.1 }, /jitter/],
  ] as [{ attempt: number; jitter?: number }, RegExp][])('rejects %j', (input, message) => {
    expect(() => nextAttemptAt({ now, schedule, random: fixed(0.5), ...input })).toThrow(message);
  });
});
