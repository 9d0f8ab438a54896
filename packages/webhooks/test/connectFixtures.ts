// Realistic events of the seven recommended Connect types, annotated with
// the `stripe` package's own types so the compiler checks their shape.
import type Stripe from 'stripe';
import { generateTestHeader } from '../src/index.js';
import { NOW_S, SECRET } from './support.js';

export const ACCOUNT = 'acct_1PlatformConnected';

const base = {
  object: 'event' as const,
  account: ACCOUNT,
  api_version: '2026-10-28.endive',
  created: NOW_S,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
};

const requirements = {
  alternatives: [],
  current_deadline: null,
  currently_due: ['individual.verification.document'],
  disabled_reason: 'requirements.past_due' as const,
  errors: [
    {
      code: 'verification_document_expired' as const,
      reason: 'The document has expired.',
      requirement: 'individual.verification.document',
    },
  ],
  eventually_due: ['individual.verification.document'],
  past_due: ['individual.verification.document'],
  pending_verification: [],
};

export const accountUpdated: Stripe.AccountUpdatedEvent = {
  ...base,
  id: 'evt_1AccountUpdated',
  type: 'account.updated',
  data: {
    object: {
      id: ACCOUNT,
      object: 'account',
      business_type: 'individual',
      capabilities: { card_payments: 'inactive', transfers: 'active' },
      charges_enabled: false,
      country: 'FR',
      created: NOW_S - 86_400,
      default_currency: 'eur',
      details_submitted: true,
      email: 'owner@example.com',
      metadata: { internal_id: 'shop_42' },
      payouts_enabled: false,
      requirements,
      type: 'express',
    },
    previous_attributes: { charges_enabled: true },
  },
};

export const deauthorized: Stripe.AccountApplicationDeauthorizedEvent = {
  ...base,
  id: 'evt_1Deauthorized',
  type: 'account.application.deauthorized',
  data: { object: { id: 'ca_1Platform', object: 'application', name: 'Acme Marketplace' } },
};

export const externalAccountUpdated: Stripe.AccountExternalAccountUpdatedEvent = {
  ...base,
  id: 'evt_1ExternalAccount',
  type: 'account.external_account.updated',
  data: {
    object: {
      id: 'ba_1Bank',
      object: 'bank_account',
      account: ACCOUNT,
      account_holder_name: 'Jane Doe',
      account_holder_type: 'individual',
      account_type: null,
      bank_name: 'STRIPE TEST BANK',
      country: 'FR',
      currency: 'eur',
      default_for_currency: true,
      fingerprint: 'fp_1',
      last4: '3000',
      metadata: {},
      routing_number: '110000000',
      status: 'errored',
    },
    previous_attributes: { status: 'verified' },
  },
};

export const balanceAvailable: Stripe.BalanceAvailableEvent = {
  ...base,
  id: 'evt_1Balance',
  type: 'balance.available',
  data: {
    object: {
      object: 'balance',
      available: [{ amount: 12_500, currency: 'eur', source_types: { card: 12_500 } }],
      connect_reserved: [{ amount: 0, currency: 'eur' }],
      livemode: false,
      pending: [{ amount: 3_000, currency: 'eur', source_types: { card: 3_000 } }],
    },
  },
};

export const paymentIntentSucceeded: Stripe.PaymentIntentSucceededEvent = {
  ...base,
  id: 'evt_1PaymentIntent',
  type: 'payment_intent.succeeded',
  data: {
    object: {
      id: 'pi_1Payment',
      object: 'payment_intent',
      allowed_payment_method_types: null,
      amount: 5_000,
      amount_capturable: 0,
      amount_received: 5_000,
      application: 'ca_1Platform',
      application_fee_amount: 250,
      automatic_payment_methods: null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic',
      client_secret: 'pi_1Payment_secret_x',
      confirmation_method: 'automatic',
      created: NOW_S - 60,
      currency: 'eur',
      customer: 'cus_1Customer',
      customer_account: null,
      description: 'Order #1001',
      excluded_payment_method_types: null,
      last_payment_error: null,
      latest_charge: 'ch_1Charge',
      livemode: false,
      managed_payments: null,
      metadata: { order_id: '1001' },
      next_action: null,
      on_behalf_of: ACCOUNT,
      payment_method: 'pm_1Card',
      payment_method_configuration_details: null,
      payment_method_options: null,
      payment_method_types: ['card'],
      payment_record: null,
      processing: null,
      receipt_email: null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      source: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: 'succeeded',
      transfer_data: { destination: ACCOUNT },
      transfer_group: 'group_pi_1Payment',
    },
  },
};

export const payoutFailed: Stripe.PayoutFailedEvent = {
  ...base,
  id: 'evt_1PayoutFailed',
  type: 'payout.failed',
  data: {
    object: {
      id: 'po_1Payout',
      object: 'payout',
      amount: 12_500,
      application_fee: null,
      application_fee_amount: null,
      arrival_date: NOW_S + 86_400,
      automatic: true,
      balance_transaction: 'txn_1Payout',
      created: NOW_S - 3_600,
      currency: 'eur',
      description: 'STRIPE PAYOUT',
      destination: 'ba_1Bank',
      failure_balance_transaction: 'txn_1PayoutFailure',
      failure_code: 'account_closed',
      failure_message: 'The bank account has been closed.',
      livemode: false,
      metadata: {},
      method: 'standard',
      original_payout: null,
      payout_method: null,
      reconciliation_status: 'not_applicable',
      reversed_by: null,
      source_type: 'card',
      statement_descriptor: null,
      status: 'failed',
      trace_id: null,
      type: 'bank_account',
    },
    previous_attributes: { status: 'in_transit' },
  },
};

export const personUpdated: Stripe.PersonUpdatedEvent = {
  ...base,
  id: 'evt_1Person',
  type: 'person.updated',
  data: {
    object: {
      id: 'person_1Person',
      object: 'person',
      account: ACCOUNT,
      created: NOW_S - 86_400,
      email: 'jane@example.com',
      first_name: 'Jane',
      last_name: 'Doe',
      metadata: {},
      relationship: {
        authorizer: null,
        director: false,
        executive: true,
        legal_guardian: null,
        owner: true,
        percent_ownership: 100,
        representative: true,
        title: 'CEO',
      },
      requirements: {
        alternatives: [],
        currently_due: [],
        errors: [],
        eventually_due: ['verification.additional_document'],
        past_due: [],
        pending_verification: ['verification.document'],
      },
      verification: { status: 'pending' },
    },
    previous_attributes: { verification: { status: 'unverified' } },
  },
};

/** The seven fixtures, keyed by type. */
export const CONNECT_FIXTURES = {
  'account.application.deauthorized': deauthorized,
  'account.external_account.updated': externalAccountUpdated,
  'account.updated': accountUpdated,
  'balance.available': balanceAvailable,
  'payment_intent.succeeded': paymentIntentSucceeded,
  'payout.failed': payoutFailed,
  'person.updated': personUpdated,
};

export interface SignOptions {
  timestamp?: number;
  secret?: string;
}

/** A `Stripe-Signature` header for exactly these bytes, signed at `NOW_S` unless told otherwise. */
export function signBody(body: string | Uint8Array, options: SignOptions = {}): string {
  return generateTestHeader({
    payload: body,
    secret: options.secret ?? SECRET,
    timestamp: options.timestamp ?? NOW_S,
  });
}

/** An event as a compact JSON body, with its signature header. */
export function signed(event: object, options: SignOptions = {}): { body: string; header: string } {
  const body = JSON.stringify(event);
  return { body, header: signBody(body, options) };
}

/** The same event in live mode. */
export function live<T extends { livemode: boolean }>(event: T): T {
  return { ...event, livemode: true };
}
