import { describe, expect, it } from 'vitest';
import {
  isEventType,
  isTypePattern,
  matchesEnabledEvents,
  matchesTypePattern,
  toTypeFilter,
} from '../src/routing/eventTypes.js';
import {
  type AccountLink,
  type RoutableEndpoint,
  type RouteDecision,
  routeDecision,
  routeEvent,
} from '../src/routing/routing.js';

const P = 'acct_platform';
const C = 'acct_connected';
const OTHER_P = 'acct_other_platform';

function ep(over: Partial<RoutableEndpoint>): RoutableEndpoint {
  return {
    id: 'we_x',
    ownerAccountId: P,
    livemode: false,
    connect: false,
    status: 'enabled',
    enabledEvents: ['*'],
    ...over,
  };
}

const BOTH = { test: true, live: true };
/** Connected in both modes: every Connect rule applies. */
const connected: AccountLink = { platformId: P, connected: true, modes: BOTH };
/** Disconnected in every mode; its deauthorization event carries the modes it had. */
const disconnected: AccountLink = { platformId: P, connected: false, modes: BOTH };
const liveOnly: AccountLink = { platformId: P, connected: true, modes: { test: false, live: true } };
const testOnly: AccountLink = { platformId: P, connected: true, modes: { test: true, live: false } };

type Row = [
  name: string,
  event: { accountId: string; livemode: boolean; type: string },
  link: AccountLink | null,
  endpoint: Partial<RoutableEndpoint>,
  expected: RouteDecision,
];

const test_ = false;
const live = true;

const table: Row[] = [
  // Account endpoints: own events, same mode.
  [
    'platform event → platform test account endpoint',
    { accountId: P, livemode: test_, type: 'customer.created' },
    null,
    {},
    { deliver: true, scope: 'account' },
  ],
  [
    'platform live event → platform live account endpoint',
    { accountId: P, livemode: live, type: 'customer.created' },
    null,
    { livemode: live },
    { deliver: true, scope: 'account' },
  ],
  [
    'platform test event ✗ live account endpoint',
    { accountId: P, livemode: test_, type: 'customer.created' },
    null,
    { livemode: live },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'platform live event ✗ test account endpoint',
    { accountId: P, livemode: live, type: 'customer.created' },
    null,
    { livemode: test_ },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'platform event ✗ platform Connect endpoint',
    { accountId: P, livemode: test_, type: 'customer.created' },
    null,
    { connect: true },
    { deliver: false, reason: 'other_account' },
  ],
  [
    'connected event ✗ platform account endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    {},
    { deliver: false, reason: 'other_account' },
  ],
  [
    'connected event → connected account own endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { ownerAccountId: C },
    { deliver: true, scope: 'account' },
  ],
  [
    'connected live event ✗ its own test endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    connected,
    { ownerAccountId: C },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  // Connect endpoints: the livemode rule.
  [
    'connected test event → test Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { connect: true, livemode: test_ },
    { deliver: true, scope: 'connect' },
  ],
  [
    'connected test event → live Connect endpoint too',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { connect: true, livemode: live },
    { deliver: true, scope: 'connect' },
  ],
  [
    'connected live event → live Connect endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    connected,
    { connect: true, livemode: live },
    { deliver: true, scope: 'connect' },
  ],
  [
    'connected live event ✗ test Connect endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    connected,
    { connect: true, livemode: test_ },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'connected event ✗ another platform’s Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { connect: true, ownerAccountId: OTHER_P },
    { deliver: false, reason: 'other_account' },
  ],
  [
    'connected event ✗ Connect endpoint owned by the account itself',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { connect: true, ownerAccountId: C },
    { deliver: false, reason: 'other_account' },
  ],
  // By connection mode (the support article "Connect account webhook configurations").
  [
    'live-only account: live event → live Connect endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    liveOnly,
    { connect: true, livemode: live },
    { deliver: true, scope: 'connect' },
  ],
  [
    'live-only account: test event → live Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    liveOnly,
    { connect: true, livemode: live },
    { deliver: true, scope: 'connect' },
  ],
  [
    'live-only account: test event ✗ test Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    liveOnly,
    { connect: true, livemode: test_ },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'live-only account: live event ✗ test Connect endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    liveOnly,
    { connect: true, livemode: test_ },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'test-only account: test event → test Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    testOnly,
    { connect: true, livemode: test_ },
    { deliver: true, scope: 'connect' },
  ],
  [
    'test-only account: test event ✗ live Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    testOnly,
    { connect: true, livemode: live },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'test-only account: live event ✗ live Connect endpoint',
    { accountId: C, livemode: live, type: 'account.updated' },
    testOnly,
    { connect: true, livemode: live },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  [
    'test-only account: its own live endpoint is its own business',
    { accountId: C, livemode: live, type: 'account.updated' },
    testOnly,
    { ownerAccountId: C, livemode: live },
    { deliver: true, scope: 'account' },
  ],
  [
    'deauthorized in live mode only: its test event → live Connect endpoint no more',
    { accountId: C, livemode: test_, type: 'account.updated' },
    testOnly,
    { connect: true, livemode: live },
    { deliver: false, reason: 'mode_mismatch' },
  ],
  // Deauthorization.
  [
    'deauthorized event itself → Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.application.deauthorized' },
    disconnected,
    { connect: true },
    { deliver: true, scope: 'connect' },
  ],
  [
    'after deauthorization ✗ Connect endpoint',
    { accountId: C, livemode: test_, type: 'account.updated' },
    disconnected,
    { connect: true },
    { deliver: false, reason: 'not_connected' },
  ],
  [
    'after deauthorization ✗ live Connect endpoint',
    { accountId: C, livemode: live, type: 'payout.failed' },
    disconnected,
    { connect: true, livemode: live },
    { deliver: false, reason: 'not_connected' },
  ],
  [
    'after deauthorization → account’s own endpoint still',
    { accountId: C, livemode: test_, type: 'account.updated' },
    disconnected,
    { ownerAccountId: C },
    { deliver: true, scope: 'account' },
  ],
  // Enabled and enabled_events.
  [
    'disabled account endpoint ✗',
    { accountId: P, livemode: test_, type: 'customer.created' },
    null,
    { status: 'disabled' },
    { deliver: false, reason: 'disabled' },
  ],
  [
    'disabled Connect endpoint ✗',
    { accountId: C, livemode: test_, type: 'account.updated' },
    connected,
    { connect: true, status: 'disabled' },
    { deliver: false, reason: 'disabled' },
  ],
  [
    'enabled_events exact match →',
    { accountId: P, livemode: test_, type: 'payout.failed' },
    null,
    { enabledEvents: ['payout.paid', 'payout.failed'] },
    { deliver: true, scope: 'account' },
  ],
  [
    'enabled_events without the type ✗',
    { accountId: P, livemode: test_, type: 'payout.failed' },
    null,
    { enabledEvents: ['payout.paid'] },
    { deliver: false, reason: 'not_subscribed' },
  ],
  [
    'enabled_events has no prefix wildcard ✗',
    { accountId: P, livemode: test_, type: 'payout.failed' },
    null,
    { enabledEvents: ['payout.*'] },
    { deliver: false, reason: 'not_subscribed' },
  ],
  [
    'Connect enabled_events filter ✗',
    { accountId: C, livemode: test_, type: 'person.updated' },
    connected,
    { connect: true, enabledEvents: ['account.updated'] },
    { deliver: false, reason: 'not_subscribed' },
  ],
  [
    'empty enabled_events ✗',
    { accountId: P, livemode: test_, type: 'payout.failed' },
    null,
    { enabledEvents: [] },
    { deliver: false, reason: 'not_subscribed' },
  ],
];

describe('routeDecision', () => {
  it.each(table)('%s', (_name, event, link, endpoint, expected) => {
    expect(routeDecision(event, link, ep(endpoint))).toEqual(expected);
  });
});

describe('routeEvent', () => {
  it('returns every matching endpoint in order, and only those', () => {
    const endpoints = [
      ep({ id: 'we_p_acct_test' }),
      ep({ id: 'we_p_connect_test', connect: true }),
      ep({ id: 'we_p_connect_live', connect: true, livemode: true }),
      ep({ id: 'we_p_connect_live_off', connect: true, livemode: true, status: 'disabled' }),
      ep({ id: 'we_c_own_test', ownerAccountId: C }),
      ep({ id: 'we_c_own_live', ownerAccountId: C, livemode: true }),
    ];
    expect(
      routeEvent({ accountId: C, livemode: false, type: 'account.updated' }, connected, endpoints),
    ).toEqual(['we_p_connect_test', 'we_p_connect_live', 'we_c_own_test']);
    expect(
      routeEvent({ accountId: C, livemode: true, type: 'account.updated' }, connected, endpoints),
    ).toEqual(['we_p_connect_live', 'we_c_own_live']);
    expect(routeEvent({ accountId: P, livemode: false, type: 'customer.created' }, null, endpoints)).toEqual([
      'we_p_acct_test',
    ]);
  });
});

describe('event types', () => {
  it.each([
    ['customer.created', true],
    ['account.external_account.updated', true],
    ['account', false],
    ['Account.updated', false],
    ['account..updated', false],
    ['account.updated.', false],
    ['*', false],
    ['', false],
  ])('isEventType(%j) = %s', (value, ok) => {
    expect(isEventType(value)).toBe(ok);
  });

  it.each([
    ['account.*', true],
    ['account.external_account.*', true],
    ['*', true],
    ['account.updated', true],
    ['acc*', false],
    ['*.updated', false],
    ['account.*.updated', false],
  ])('isTypePattern(%j) = %s', (value, ok) => {
    expect(isTypePattern(value)).toBe(ok);
  });

  it.each([
    ['account.updated', 'account.*', true],
    ['account.external_account.updated', 'account.*', true],
    ['accounting.x', 'account.*', false],
    ['payout.failed', '*', true],
    ['payout.failed', 'payout.failed', true],
    ['payout.failed', 'payout.paid', false],
  ])('matchesTypePattern(%j, %j) = %s', (type, pattern, ok) => {
    expect(matchesTypePattern(type, pattern)).toBe(ok);
  });

  it('toTypeFilter splits exact types and prefixes', () => {
    expect(toTypeFilter(['account.*', 'payout.failed', '*'])).toEqual({
      exact: ['payout.failed'],
      prefixes: ['account.', ''],
    });
  });

  it('matchesEnabledEvents takes * or the exact type', () => {
    expect(matchesEnabledEvents('a.b', ['*'])).toBe(true);
    expect(matchesEnabledEvents('a.b', ['a.c', 'a.b'])).toBe(true);
    expect(matchesEnabledEvents('a.b', ['a.c'])).toBe(false);
  });
});
