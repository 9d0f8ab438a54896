/**
 * The give-up rule after a failed attempt: retry while the schedule lasts;
 * then give up on the delivery, and disable the endpoint only if it has not
 * answered 2xx once in the delivery's whole window. Listen sessions are never
 * disabled.
 */

import { describe, expect, it } from 'vitest';
import { failureOutcome } from '../src/delivery/dispatcher.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const schedules = { live: [MIN, 5 * MIN], test: [MIN] };
const noJitter = () => 0.5;

describe('failureOutcome', () => {
  it.each<[string, { attempt: number; lastSuccess: number | null; mayDisable?: boolean }, unknown]>([
    [
      'first failure: retry after the first delay',
      { attempt: 1, lastSuccess: null },
      { kind: 'retry', at: T0 + 10 * MIN + MIN },
    ],
    [
      'second failure: the next delay',
      { attempt: 2, lastSuccess: null },
      { kind: 'retry', at: T0 + 10 * MIN + 5 * MIN },
    ],
    [
      'window over, never a 2xx: give up and disable',
      { attempt: 3, lastSuccess: null },
      { kind: 'failed', disableEndpoint: { reason: expect.stringMatching(/retry window exhausted/) } },
    ],
    [
      'window over, a 2xx before the window: still disable',
      { attempt: 3, lastSuccess: T0 - MIN },
      { kind: 'failed', disableEndpoint: { reason: expect.any(String) } },
    ],
    [
      'window over, a 2xx within the window: give up, keep the endpoint',
      { attempt: 3, lastSuccess: T0 + MIN },
      { kind: 'failed', disableEndpoint: null },
    ],
    [
      'window over, a listen session: give up, never disable',
      { attempt: 3, lastSuccess: null, mayDisable: false },
      { kind: 'failed', disableEndpoint: null },
    ],
  ])('%s', (_name, c, expected) => {
    const outcome = failureOutcome(
      { attempt: c.attempt, createdAt: T0, livemode: true, endpointLastSuccessAt: c.lastSuccess },
      T0 + 10 * MIN,
      null,
      schedules,
      noJitter,
      c.mayDisable ?? true,
    );
    expect(outcome).toEqual(expected);
  });
});
