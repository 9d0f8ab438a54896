/**
 * The give-up rule after a failed attempt: retry while the schedule lasts,
 * then give up on the delivery; disable the endpoint only after days without
 * a 2xx, counted from its first failure since its last 2xx, whatever the mode.
 * Listen sessions are never disabled.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_DISABLE_AFTER_MS, failingWarning, failureOutcome } from '../src/delivery/giveUp.js';

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

describe('failingWarning', () => {
  const retry = { kind: 'retry', at: NOW + MIN, disableEndpoint: null } as const;
  const disabling = { kind: 'failed', disableEndpoint: { reason: 'no 2xx' } } as const;
  const A = DEFAULT_DISABLE_AFTER_MS;
  const rows: [
    name: string,
    since: number | null,
    outcome: typeof retry | typeof disabling,
    lastWarnedAt: number | null,
    expected: string | null,
  ][] = [
    ['a healthy endpoint: nothing', null, retry, null, null],
    ['failing for less than half the allowance: nothing', NOW - A / 2 + MIN, retry, null, null],
    [
      'past half the allowance: it will be disabled',
      NOW - A / 2,
      retry,
      null,
      'endpoint failing: it will be disabled',
    ],
    ['warned within the hour: nothing', NOW - A / 2, retry, NOW - 59 * MIN, null],
    ['warned an hour ago: again', NOW - A / 2, retry, NOW - HOUR, 'endpoint failing: it will be disabled'],
    [
      'disabled now: said at once, whenever the last warning was',
      NOW - A,
      disabling,
      NOW - MIN,
      'endpoint disabled: no 2xx for too long',
    ],
  ];
  it.each(rows)('%s', (_name, since, outcome, lastWarnedAt, expected) => {
    const warning = failingWarning(since, outcome, NOW, lastWarnedAt, A);
    expect(warning?.message ?? null).toBe(expected);
    if (warning && since !== null) expect(warning.disablesAt).toBe(since + A);
  });
});
