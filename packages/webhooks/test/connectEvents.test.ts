import type Stripe from 'stripe';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Account,
  type Application,
  type Balance,
  type BankAccount,
  type Card,
  type ConnectEvent,
  type EventOfType,
  type ExternalAccount,
  idOf,
  isEventType,
  isRecommendedConnectEvent,
  type PaymentIntent,
  type Payout,
  type Person,
  RECOMMENDED_CONNECT_EVENTS,
  type RecommendedConnectEventType,
} from '../src/index.js';
import { ACCOUNT, CONNECT_FIXTURES, payoutFailed } from './connectFixtures.js';

// These checks run in the compiler (tsc -p tsconfig.test.json): if the
// `stripe` package's types drift away from ours, the lines below stop
// compiling. At runtime they are no-ops.
describe('stripe types are assignable to ours', () => {
  it('objects', () => {
    const objects = {
      application: {} as Stripe.Application satisfies Application,
      bankAccount: {} as Stripe.BankAccount satisfies BankAccount,
      card: {} as Stripe.Card satisfies Card,
      externalAccount: {} as Stripe.ExternalAccount satisfies ExternalAccount,
      account: {} as Stripe.Account satisfies Account,
      balance: {} as Stripe.Balance satisfies Balance,
      paymentIntent: {} as Stripe.PaymentIntent satisfies PaymentIntent,
      payout: {} as Stripe.Payout satisfies Payout,
      person: {} as Stripe.Person satisfies Person,
    };
    expect(Object.keys(objects)).toHaveLength(9);
  });

  it('events, type by type', () => {
    // Stripe's event for each recommended type must fit our event of that type.
    type StripeEventOf<T extends string> = Extract<Stripe.Event, { type: T }>;
    const fits: {
      [T in RecommendedConnectEventType]: [StripeEventOf<T>] extends [EventOfType<T>] ? true : false;
    } = {
      'account.application.deauthorized': true,
      'account.external_account.updated': true,
      'account.updated': true,
      'balance.available': true,
      'payment_intent.succeeded': true,
      'payout.failed': true,
      'person.updated': true,
    };
    expect(Object.values(fits).every(Boolean)).toBe(true);
    expectTypeOf<Stripe.PayoutFailedEvent>().toExtend<ConnectEvent>();
  });

  it('realistic fixtures', () => {
    const events: ConnectEvent[] = Object.values(CONNECT_FIXTURES);
    const payout: Payout = payoutFailed.data.object;
    expect(events).toHaveLength(7);
    expect(payout.failure_code).toBe('account_closed');
  });
});

describe('RECOMMENDED_CONNECT_EVENTS', () => {
  it('lists the seven types, each a Stripe event type', () => {
    const types: readonly Stripe.Event.Type[] = RECOMMENDED_CONNECT_EVENTS;
    expect([...types].sort()).toEqual(Object.keys(CONNECT_FIXTURES).sort());
    expect(Object.isFrozen(RECOMMENDED_CONNECT_EVENTS)).toBe(true);
  });
});

describe('narrowing', () => {
  // Cast, not annotated: an annotation would let the compiler narrow to the fixture's own type.
  const event = payoutFailed as ConnectEvent;

  it('isEventType types data.object by the type', () => {
    expect(isEventType(event, 'payout.failed')).toBe(true);
    if (isEventType(event, 'payout.failed')) {
      expectTypeOf(event.data.object).toEqualTypeOf<Payout>();
      expect(event.data.object.failure_code).toBe('account_closed');
    }
    if (isEventType(event, 'customer.created')) {
      expectTypeOf(event.data.object).toEqualTypeOf<Record<string, unknown>>();
    }
    expect(isEventType(event, 'account.updated')).toBe(false);
  });

  it('isRecommendedConnectEvent makes a switch discriminate', () => {
    const seen: string[] = [];
    for (const fixture of Object.values(CONNECT_FIXTURES)) {
      const e: ConnectEvent = fixture;
      if (!isRecommendedConnectEvent(e)) throw new Error('expected a recommended event');
      switch (e.type) {
        case 'payout.failed':
          seen.push(`${e.data.object.failure_code}`);
          break;
        case 'account.updated':
          seen.push(`${e.data.object.charges_enabled}`);
          break;
        case 'balance.available':
          seen.push(`${e.data.object.available[0]?.amount}`);
          break;
        case 'account.external_account.updated':
          // A bank account or a card: `object` tells them apart.
          seen.push(
            e.data.object.object === 'bank_account' ? `${e.data.object.bank_name}` : e.data.object.brand,
          );
          break;
        case 'account.application.deauthorized':
          seen.push(`${e.data.object.name}`);
          break;
        case 'payment_intent.succeeded':
          seen.push(`${idOf(e.data.object.transfer_data?.destination)}`);
          break;
        case 'person.updated':
          seen.push(`${e.data.object.verification?.status}`);
          break;
        default: {
          const exhaustive: never = e;
          throw new Error(`unexpected ${JSON.stringify(exhaustive)}`);
        }
      }
    }
    expect(seen.sort()).toEqual(
      ['STRIPE TEST BANK', 'Acme Marketplace', 'account_closed', 'false', '12500', ACCOUNT, 'pending'].sort(),
    );
    expect(isRecommendedConnectEvent({ type: 'customer.created' })).toBe(false);
  });

  it('idOf reads an id whether expanded or not', () => {
    expect(idOf('ba_1')).toBe('ba_1');
    expect(idOf({ id: 'ba_1', object: 'bank_account' })).toBe('ba_1');
    expect(idOf(null)).toBeNull();
    expect(idOf(undefined)).toBeNull();
  });
});
