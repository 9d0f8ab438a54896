/**
 * The `payout` object: created pending, then paid or failed when it settles.
 * What a payout to one of Stripe's test bank accounts does comes from the
 * account number (objects/externalAccount.ts). Pure.
 */

import type Stripe from 'stripe';

/** Stripe's messages for the failure codes its test bank accounts give. */
export const PAYOUT_FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  account_closed: 'The bank account has been closed.',
  no_account:
    'The bank account details on file are probably incorrect. No bank account could be located with those details.',
  insufficient_funds: 'The bank account has insufficient funds to cover the debit.',
  debit_not_authorized: 'Debit transactions are not approved on the bank account.',
  invalid_currency: 'The bank was unable to process this payout because of its currency.',
};

export interface NewPayoutInput {
  id: string;
  createdUnix: number;
  arrivalUnix: number;
  amount: number;
  currency: string;
  destination: Stripe.BankAccount | Stripe.Card;
  balanceTransaction: string;
  description: string | null;
  metadata: Record<string, string>;
  statementDescriptor: string | null;
  livemode: boolean;
}

export function newPayout(input: NewPayoutInput): Stripe.Payout {
  return {
    id: input.id,
    object: 'payout',
    amount: input.amount,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: input.arrivalUnix,
    automatic: false,
    balance_transaction: input.balanceTransaction,
    created: input.createdUnix,
    currency: input.currency,
    description: input.description,
    destination: input.destination.id,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: input.livemode,
    metadata: input.metadata,
    method: 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: input.statementDescriptor,
    status: 'pending',
    trace_id: null,
    type: input.destination.object === 'card' ? 'card' : 'bank_account',
  } as Stripe.Payout;
}

/** The payout once settled: paid, or failed with the code its destination gives and the funds returned. */
export function settledPayout(
  payout: Stripe.Payout,
  failure: string | null,
  failureBalanceTransaction: string | null,
): Stripe.Payout {
  if (failure === null) return { ...payout, status: 'paid' };
  return {
    ...payout,
    status: 'failed',
    failure_code: failure,
    failure_message: PAYOUT_FAILURE_MESSAGES[failure] ?? 'The payout failed.',
    failure_balance_transaction: failureBalanceTransaction,
  };
}

/** A bank account a payout failed on: errored, and due again on the account until it is replaced. */
export function erroredBankAccount(bank: Stripe.BankAccount): Stripe.BankAccount {
  return {
    ...bank,
    status: 'errored',
    requirements: {
      currently_due: ['external_account'],
      errors: [],
      past_due: ['external_account'],
      pending_verification: [],
    },
  } as Stripe.BankAccount;
}
