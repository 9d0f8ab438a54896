import { describe, expect, it } from 'vitest';
import { forwardTargets, parseHeaderList } from '../src/listen/forwarder.js';

const configured = [
  {
    url: 'https://prod.example.com/hooks/account?x=1',
    enabled_events: ['*'],
    application: null,
    status: 'enabled',
  },
  {
    url: 'https://prod.example.com/hooks/connect',
    enabled_events: ['payout.failed'],
    application: 'ca_1',
    status: 'enabled',
  },
  {
    url: 'https://prod.example.com/hooks/off',
    enabled_events: ['*'],
    application: 'ca_1',
    status: 'disabled',
  },
];
const own = { id: 'evt_1', type: 'customer.created' };
const payout = { id: 'evt_2', type: 'payout.failed', account: 'acct_1' };
const person = { id: 'evt_3', type: 'person.updated', account: 'acct_1' };

describe('forwardTargets', () => {
  it.each([
    ['own event → forward-to', own, { forwardTo: 'http://localhost:4242/w' }, ['http://localhost:4242/w']],
    [
      'Connect event without forward-connect-to → forward-to',
      payout,
      { forwardTo: 'http://localhost:4242/w' },
      ['http://localhost:4242/w'],
    ],
    [
      'Connect event → forward-connect-to',
      payout,
      { forwardTo: 'http://l/w', forwardConnectTo: 'http://l/c' },
      ['http://l/c'],
    ],
    [
      'configured: account endpoint path',
      own,
      { forwardTo: 'http://localhost:4242/x', useConfiguredWebhooks: true },
      ['http://localhost:4242/hooks/account?x=1'],
    ],
    [
      'configured: Connect endpoint subscribed',
      payout,
      { forwardTo: 'http://localhost:4242/x', useConfiguredWebhooks: true },
      ['http://localhost:4242/hooks/connect'],
    ],
    [
      'configured: not subscribed, disabled skipped',
      person,
      { forwardTo: 'http://localhost:4242/x', useConfiguredWebhooks: true },
      [],
    ],
  ])('%s', (_name, event, opts, expected) => {
    expect(forwardTargets(event, { useConfiguredWebhooks: false, ...opts }, configured)).toEqual(expected);
  });
});

describe('parseHeaderList', () => {
  it('parses "Name: value" lists and refuses malformed ones', () => {
    expect(parseHeaderList('X-A: 1, X-B:two')).toEqual({ 'x-a': '1', 'x-b': 'two' });
    expect(parseHeaderList(undefined)).toEqual({});
    expect(() => parseHeaderList('nocolon')).toThrow(/Name: value/);
  });
});
