/**
 * A connected account's external accounts, where its payouts go: bank
 * accounts (from Stripe's test account numbers and `btok_…` tokens) and
 * debit cards (`tok_visa_debit`, …), with Stripe's shapes. Pure.
 */

import type Stripe from 'stripe';
import { withoutRequirements } from './account.js';

/** Stripe's test routing number (US). */
export const TEST_ROUTING_NUMBER = '110000000';

/**
 * Stripe's US test bank account numbers, by what a payout to them does
 * (docs.stripe.com/connect/testing): null pays; a code is the payout's
 * `failure_code`.
 */
export const TEST_BANK_ACCOUNTS: Readonly<Record<string, Stripe.Payout['failure_code']>> = {
  '000123456789': null,
  '000111111116': 'no_account',
  '000111111113': 'account_closed',
  '000222222227': 'insufficient_funds',
  '000333333335': 'debit_not_authorized',
  '000444444440': 'invalid_currency',
};

/** Stripe's bank account tokens for those numbers. */
export const BANK_TOKENS: Readonly<Record<string, string>> = {
  btok_us_verified: '000123456789',
  btok_us_verified_noAccount: '000111111116',
  btok_us_verified_accountClosed: '000111111113',
  btok_us_verified_insufficientFunds: '000222222227',
  btok_us_verified_debitNotAuthorized: '000333333335',
  btok_us_verified_invalidCurrency: '000444444440',
};

/** Stripe's debit card tokens an external account may be made from. */
export const DEBIT_CARD_TOKENS: Readonly<Record<string, { brand: string; last4: string }>> = {
  tok_visa_debit: { brand: 'Visa', last4: '5556' },
  tok_mastercard_debit: { brand: 'MasterCard', last4: '8210' },
};

export interface NewBankAccountInput {
  id: string;
  account: string;
  accountNumber: string;
  routingNumber: string;
  country: string;
  currency: string;
  holderName: string | null;
  holderType: 'individual' | 'company' | null;
  defaultForCurrency: boolean;
  metadata: Record<string, string>;
}

export function newBankAccount(input: NewBankAccountInput): Stripe.BankAccount {
  return {
    id: input.id,
    object: 'bank_account',
    account: input.account,
    account_holder_name: input.holderName,
    account_holder_type: input.holderType,
    account_type: null,
    available_payout_methods: ['standard', 'instant'],
    bank_name: 'STRIPE TEST BANK',
    country: input.country,
    currency: input.currency,
    default_for_currency: input.defaultForCurrency,
    fingerprint: `fp${input.accountNumber.slice(-8)}`,
    future_requirements: { currently_due: [], errors: [], past_due: [], pending_verification: [] },
    last4: input.accountNumber.slice(-4),
    metadata: input.metadata,
    requirements: { currently_due: [], errors: [], past_due: [], pending_verification: [] },
    routing_number: input.routingNumber,
    status: 'new',
  } as Stripe.BankAccount;
}

export interface NewDebitCardInput {
  id: string;
  account: string;
  brand: string;
  last4: string;
  currency: string;
  defaultForCurrency: boolean;
  metadata: Record<string, string>;
}

export function newDebitCard(input: NewDebitCardInput): Stripe.Card {
  return {
    id: input.id,
    object: 'card',
    account: input.account,
    address_city: null,
    address_country: null,
    address_line1: null,
    address_line1_check: null,
    address_line2: null,
    address_state: null,
    address_zip: null,
    address_zip_check: null,
    available_payout_methods: ['standard', 'instant'],
    brand: input.brand,
    country: 'US',
    currency: input.currency,
    cvc_check: 'pass',
    default_for_currency: input.defaultForCurrency,
    dynamic_last4: null,
    exp_month: 12,
    exp_year: 2034,
    fingerprint: `fp${input.brand}${input.last4}`,
    funding: 'debit',
    last4: input.last4,
    metadata: input.metadata,
    name: null,
    regulated_status: 'unregulated',
    tokenization_method: null,
    wallet: null,
  } as Stripe.Card;
}

export type ExternalAccount = Stripe.BankAccount | Stripe.Card;

/** The account with `external_account` no longer required: what adding its first external account does. */
export const accountWithExternalAccount = (account: Stripe.Account): Stripe.Account =>
  withoutRequirements(account, (r) => r === 'external_account');

/** The account object's embedded `external_accounts` list, newest first, as Stripe shows it. */
export function withExternalAccountList(
  account: Stripe.Account,
  externalAccounts: ExternalAccount[],
): Stripe.Account {
  return {
    ...account,
    external_accounts: {
      object: 'list',
      data: externalAccounts,
      has_more: false,
      url: `/v1/accounts/${account.id}/external_accounts`,
    } as Stripe.ApiList<ExternalAccount>,
  };
}
