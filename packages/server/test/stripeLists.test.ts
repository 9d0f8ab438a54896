/**
 * Switchboard's lists of Stripe's event types and API versions are exactly
 * those of the `stripe` package: checked by the compiler (both ways) and at
 * run time.
 */

import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { STRIPE_API_VERSIONS, type StripeApiVersion } from '../src/stripe/apiVersions.js';
import { STRIPE_EVENT_TYPES, type StripeEventType } from '../src/stripe/eventTypes.js';
import { closestName, editDistance } from '../src/stripe/suggest.js';

type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameEvents: Equal<
  StripeEventType,
  Exclude<Stripe.WebhookEndpointCreateParams.EnabledEvent, '*'>
> = true;
const sameVersions: Equal<StripeApiVersion, Stripe.WebhookEndpointCreateParams.ApiVersion> = true;

describe('lists taken from the stripe package', () => {
  it('hold no duplicates and match its types', () => {
    expect(sameEvents && sameVersions).toBe(true);
    expect(new Set(STRIPE_EVENT_TYPES).size).toBe(STRIPE_EVENT_TYPES.length);
    expect(new Set(STRIPE_API_VERSIONS).size).toBe(STRIPE_API_VERSIONS.length);
    expect(STRIPE_EVENT_TYPES).toContain('account.application.deauthorized');
    // The newest is the one the installed SDK pins.
    expect(STRIPE_API_VERSIONS.at(-1)).toBe(Stripe.API_VERSION);
  });
});

describe('closestName', () => {
  it.each([
    ['account.udpated', 'account.updated'],
    ['payout.faild', 'payout.failed'],
    ['customer.create', 'customer.created'],
    ['banana.split', null],
    ['x', null],
  ])('%s → %s', (value, expected) => {
    expect(closestName(value, STRIPE_EVENT_TYPES)).toBe(expected);
  });

  it.each([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['abc', 'acb', 1],
    ['abc', 'ab', 1],
    ['kitten', 'sitting', 3],
  ])('editDistance(%s, %s) = %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});
