/**
 * Stripe's test payment methods (docs.stripe.com/testing): the `pm_card_…`
 * ids a test-mode payment may name, with the card behind each and what a
 * charge to it does. Pure data.
 */

import type Stripe from 'stripe';

export interface CardDecline {
  /** The error's `code`. */
  code: 'card_declined' | 'expired_card' | 'incorrect_cvc' | 'processing_error';
  /** The error's `decline_code`, the charge's `outcome.reason`. */
  declineCode: string;
  message: string;
}

export interface TestCard {
  brand: 'visa' | 'mastercard' | 'amex';
  last4: string;
  funding: 'credit' | 'debit';
  country: string;
  /** Declined: the charge fails with this; otherwise it succeeds. */
  decline: CardDecline | null;
  /** The funds are available at once instead of pending (`pm_card_bypassPending`). */
  availableAtOnce: boolean;
}

const visa = (last4: string, over: Partial<TestCard> = {}): TestCard => ({
  brand: 'visa',
  last4,
  funding: 'credit',
  country: 'US',
  decline: null,
  availableAtOnce: false,
  ...over,
});

const declined = (last4: string, decline: CardDecline): TestCard => visa(last4, { decline });

export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  pm_card_visa: visa('4242'),
  pm_card_visa_debit: visa('5556', { funding: 'debit' }),
  pm_card_mastercard: { ...visa('4444'), brand: 'mastercard' },
  pm_card_amex: { ...visa('0005'), brand: 'amex' },
  pm_card_bypassPending: visa('0077', { availableAtOnce: true }),
  pm_card_chargeDeclined: declined('0002', {
    code: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
  }),
  pm_card_chargeDeclinedInsufficientFunds: declined('9995', {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  }),
  pm_card_chargeDeclinedFraudulent: declined('0019', {
    code: 'card_declined',
    declineCode: 'fraudulent',
    message: 'Your card was declined.',
  }),
  pm_card_chargeDeclinedExpiredCard: declined('0069', {
    code: 'expired_card',
    declineCode: 'expired_card',
    message: 'Your card has expired.',
  }),
  pm_card_chargeDeclinedProcessingError: declined('0119', {
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  }),
};

export const isTestCard = (id: string): boolean => Object.hasOwn(TEST_CARDS, id);

/** The card payment method a test id stands for, as Stripe creates it when a payment uses the id. */
export function cardPaymentMethod(
  id: string,
  card: TestCard,
  createdUnix: number,
  livemode: boolean,
): Stripe.PaymentMethod {
  return {
    id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: card.country,
      display_brand: card.brand,
      exp_month: 12,
      exp_year: 2034,
      fingerprint: `fp${card.brand}${card.last4}`,
      funding: card.funding,
      generated_from: null,
      last4: card.last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created: createdUnix,
    customer: null,
    customer_account: null,
    livemode,
    metadata: {},
    type: 'card',
  } as Stripe.PaymentMethod;
}
