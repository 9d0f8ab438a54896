/**
 * The give-up rule after a failed attempt: retry while the schedule lasts,
 * then give up on the delivery; disable the endpoint only after days without
 * a 2xx, counted from its first failure since its last 2xx, whatever the mode.
 * Listen sessions are never disabled.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_DISABLE_AFTER_MS, failureOutcome } from '../src/delivery/giveUp.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 10 * DAY;
const schedules = { live: [MIN, 5 * MIN], test: [MIN] };
const noJitter = () => 0.5;

type Row = [
  name: string,
  c: { attempt: number; livemode?: boolean; failingSince: number | null; disableAfterMs?: number | null },
  expected: unknown,
];

const table: Row[] = [
  [
    'first failure of a healthy endpoint: retry',
    { attempt: 1, failingSince: null },
    { kind: 'retry', at: NOW + MIN, disableEndpoint: null },
  ],
  [
    'second failure: the next delay',
    { attempt: 2, failingSince: NOW - HOUR },
    { kind: 'retry', at: NOW + 5 * MIN, disableEndpoint: null },
  ],
  [
    'schedule over: give up, the endpoint stays',
    { attempt: 3, failingSince: NOW - HOUR },
    { kind: 'failed', disableEndpoint: null },
  ],
  [
    'test mode, schedule over within hours: give up, never disable',
    { attempt: 2, livemode: false, failingSince: NOW - 3 * HOUR },
    { kind: 'failed', disableEndpoint: null },
  ],
  [
    'failing just under 3 days: still not disabled',
    { attempt: 1, failingSince: NOW - DEFAULT_DISABLE_AFTER_MS + 1 },
    { kind: 'retry', at: NOW + MIN, disableEndpoint: null },
  ],
  [
    'failing for 3 days, a delivery with retries left: retry recorded, endpoint disabled',
    { attempt: 1, failingSince: NOW - DEFAULT_DISABLE_AFTER_MS },
    {
      kind: 'retry',
      at: NOW + MIN,
      disableEndpoint: {
        reason: expect.stringMatching(/^no successful delivery since .* \(3 days of failures\)$/),
      },
    },
  ],
  [
    'failing for 3 days in test mode: disabled too',
    { attempt: 2, livemode: false, failingSince: NOW - 4 * DAY },
    { kind: 'failed', disableEndpoint: { reason: expect.stringMatching(/4 days of failures/) } },
  ],
  [
    'a shorter configured bound',
    { attempt: 1, failingSince: NOW - 13 * HOUR, disableAfterMs: 12 * HOUR },
    {
      kind: 'retry',
      at: NOW + MIN,
      disableEndpoint: { reason: expect.stringMatching(/13 hours of failures/) },
    },
  ],
  [
    'a listen session: never disabled',
    { attempt: 3, failingSince: NOW - 30 * DAY, disableAfterMs: null },
    { kind: 'failed', disableEndpoint: null },
  ],
];

describe('failureOutcome', () => {
  it.each(table)('%s', (_name, c, expected) => {
    const outcome = failureOutcome(
      { attempt: c.attempt, livemode: c.livemode ?? true, endpointFailingSince: c.failingSince },
      NOW,
      null,
      schedules,
      noJitter,
      c.disableAfterMs === undefined ? DEFAULT_DISABLE_AFTER_MS : c.disableAfterMs,
    );
    expect(outcome).toEqual(expected);
  });
});
