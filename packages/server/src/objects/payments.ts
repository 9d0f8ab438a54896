/**
 * The objects of a card payment, with Stripe's shapes: the payment intent, its
 * charge, the charge's balance transaction, refunds, and the balance they add
 * up to. Pure: services/payments.ts decides when each is made and stored.
 */

import type Stripe from 'stripe';
import type { TestCard } from './testCards.js';

/**
 * Stripe's standard card pricing in the US, "2.9% + 30¢" per successful card
 * charge (stripe.com/pricing): the fee of an emulated charge.
 */
export function cardFee(amount: number): number {
  return Math.round(amount * 0.029) + 30;
}

export interface NewPaymentIntentInput {
  id: string;
  createdUnix: number;
  livemode: boolean;
  amount: number;
  currency: string;
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  paymentMethodTypes: string[];
  receiptEmail: string | null;
  shipping: Stripe.PaymentIntent.Shipping | null;
  statementDescriptor: string | null;
}

export function newPaymentIntent(input: NewPaymentIntentInput): Stripe.PaymentIntent {
  return {
    id: input.id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${input.id}_secret_emulated`,
    confirmation_method: 'automatic',
    created: input.createdUnix,
    currency: input.currency,
    customer: input.customer,
    customer_account: null,
    description: input.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: input.livemode,
    managed_payments: null,
    metadata: input.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: input.paymentMethodTypes,
    payment_record: null,
    processing: null,
    receipt_email: input.receiptEmail,
    review: null,
    setup_future_usage: null,
    shipping: input.shipping,
    source: null,
    statement_descriptor: input.statementDescriptor,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_group: null,
  } as Stripe.PaymentIntent;
}

export interface NewChargeInput {
  id: string;
  createdUnix: number;
  intent: Stripe.PaymentIntent;
  paymentMethod: Stripe.PaymentMethod;
  card: TestCard;
  /** The succeeded charge's balance transaction; null for a failed one. */
  balanceTransaction: string | null;
}

/** The charge a confirmation makes: succeeded, or failed with the card's decline. */
export function newCharge(input: NewChargeInput): Stripe.Charge {
  const { intent, card } = input;
  const decline = card.decline;
  const ok = decline === null;
  return {
    id: input.id,
    object: 'charge',
    amount: intent.amount,
    amount_captured: ok ? intent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: input.balanceTransaction,
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: intent.statement_descriptor ?? 'SWITCHBOARD',
    captured: ok,
    created: input.createdUnix,
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: decline?.code ?? null,
    failure_message: decline?.message ?? null,
    fraud_details: {},
    livemode: intent.livemode,
    metadata: intent.metadata,
    on_behalf_of: null,
    outcome: ok
      ? {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'approved_by_network',
          reason: null,
          risk_level: 'normal',
          risk_score: 32,
          seller_message: 'Payment complete.',
          type: 'authorized',
        }
      : {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'declined_by_network',
          reason: decline.declineCode,
          risk_level: 'normal',
          risk_score: 32,
          seller_message: 'The bank did not return any further details with this decline.',
          type: 'issuer_declined',
        },
    paid: ok,
    payment_intent: intent.id,
    payment_method: input.paymentMethod.id,
    payment_method_details: {
      card: {
        amount_authorized: ok ? intent.amount : null,
        authorization_code: null,
        brand: card.brand,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: card.country,
        exp_month: 12,
        exp_year: 2034,
        fingerprint: input.paymentMethod.card?.fingerprint ?? null,
        funding: card.funding,
        installments: null,
        last4: card.last4,
        mandate: null,
        network: card.brand,
        network_token: { used: false },
        network_transaction_id: null,
        regulated_status: 'unregulated',
        three_d_secure: null,
        wallet: null,
      },
      type: 'card',
    },
    radar_options: {},
    receipt_email: intent.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: intent.shipping,
    source: null,
    source_transfer: null,
    statement_descriptor: intent.statement_descriptor,
    statement_descriptor_suffix: null,
    status: ok ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: null,
  } as Stripe.Charge;
}

export interface NewBalanceTransactionInput {
  id: string;
  createdUnix: number;
  /** Unix seconds when the funds become available. */
  availableOnUnix: number;
  /** Positive for a charge, negative for a refund. */
  amount: number;
  fee: number;
  currency: string;
  source: string;
  type: 'charge' | 'refund' | 'payout' | 'payout_failure';
}

export function newBalanceTransaction(input: NewBalanceTransactionInput): Stripe.BalanceTransaction {
  return {
    id: input.id,
    object: 'balance_transaction',
    amount: input.amount,
    available_on: input.availableOnUnix,
    balance_type: 'payments',
    created: input.createdUnix,
    currency: input.currency,
    description: null,
    exchange_rate: null,
    fee: input.fee,
    fee_details:
      input.fee > 0
        ? [
            {
              amount: input.fee,
              application: null,
              currency: input.currency,
              description: 'Stripe processing fees',
              type: 'stripe_fee',
            },
          ]
        : [],
    net: input.amount - input.fee,
    reporting_category: input.type,
    source: input.source,
    status: input.availableOnUnix <= input.createdUnix ? 'available' : 'pending',
    type: input.type,
  } as Stripe.BalanceTransaction;
}

/** A balance transaction as of `nowUnix`: pending until its funds are available. */
export function balanceTransactionAt(
  t: Stripe.BalanceTransaction,
  nowUnix: number,
): Stripe.BalanceTransaction {
  const status = t.available_on <= nowUnix ? 'available' : 'pending';
  return t.status === status ? t : { ...t, status };
}

export interface NewRefundInput {
  id: string;
  createdUnix: number;
  amount: number;
  charge: Stripe.Charge;
  balanceTransaction: string;
  metadata: Record<string, string>;
  reason: Stripe.Refund.Reason | null;
}

export function newRefund(input: NewRefundInput): Stripe.Refund {
  return {
    id: input.id,
    object: 'refund',
    amount: input.amount,
    balance_transaction: input.balanceTransaction,
    charge: input.charge.id,
    created: input.createdUnix,
    currency: input.charge.currency,
    customer: input.charge.customer,
    customer_account: null,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata: input.metadata,
    payment_intent: input.charge.payment_intent,
    payment_method: input.charge.payment_method,
    reason: input.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  } as Stripe.Refund;
}

/** The balance the transactions add up to at `nowUnix`, per currency, as `GET /v1/balance` answers it. */
export function balanceOf(
  transactions: readonly Stripe.BalanceTransaction[],
  nowUnix: number,
  livemode: boolean,
): Stripe.Balance {
  const available = new Map<string, number>();
  const pending = new Map<string, number>();
  for (const t of transactions) {
    const into = t.available_on <= nowUnix ? available : pending;
    into.set(t.currency, (into.get(t.currency) ?? 0) + t.net);
    // Every currency that was ever used shows in both lists, as Stripe's do.
    for (const m of [available, pending]) if (!m.has(t.currency)) m.set(t.currency, 0);
  }
  const amounts = (m: Map<string, number>) =>
    [...m]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
  if (available.size === 0) {
    available.set('usd', 0);
    pending.set('usd', 0);
  }
  return {
    object: 'balance',
    available: amounts(available),
    livemode,
    pending: amounts(pending),
  } as Stripe.Balance;
}
