/**
 * The connected `account` object: creation defaults and updates. Pure.
 */

import type Stripe from 'stripe';
import type { JsonObject, PlatformRecord } from '../store/types.js';

export const ACCOUNT_TYPES = ['standard', 'express', 'custom'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** Requirements a new account starts with, as Stripe lists them for a US individual. */
const INITIAL_REQUIREMENTS = [
  'business_profile.mcc',
  'business_profile.url',
  'business_type',
  'external_account',
  'representative.first_name',
  'representative.last_name',
  'tos_acceptance.date',
  'tos_acceptance.ip',
];

/** Requirements with nothing due, as an account's or a capability's `future_requirements` start. */
export function nothingDue() {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: [],
    disabled_reason: null,
    errors: [],
    eventually_due: [],
    past_due: [],
    pending_verification: [],
  };
}

export interface NewAccountInput {
  id: string;
  /** The legacy type, or `none` when the controller properties match none (accountController.ts). */
  type: AccountType | 'none';
  createdUnix: number;
  country?: string;
  email?: string | null;
  defaultCurrency?: string;
  metadata?: Record<string, string>;
  businessType?: Stripe.Account.BusinessType | null;
  businessProfile?: Record<string, unknown>;
  capabilities?: string[];
}

/**
 * A new connected account with Stripe's shape: not yet able to charge or pay
 * out, with its onboarding requirements currently due.
 */
export function newAccountObject(input: NewAccountInput): Stripe.Account {
  const country = input.country ?? 'US';
  const capabilities: Record<string, 'inactive'> = {};
  for (const c of input.capabilities ?? []) capabilities[c] = 'inactive';
  const account = {
    id: input.id,
    object: 'account',
    business_profile: {
      mcc: null,
      minority_owned_business_designation: null,
      name: null,
      product_description: null,
      specified_commercial_transactions_act_url: null,
      support_address: null,
      support_email: null,
      support_phone: null,
      support_url: null,
      url: null,
      ...(input.businessProfile ?? {}),
    },
    business_type: input.businessType ?? null,
    capabilities,
    charges_enabled: false,
    controller: {
      is_controller: true,
      type: 'application',
    },
    country,
    created: input.createdUnix,
    default_currency: input.defaultCurrency ?? (country === 'US' ? 'usd' : 'eur'),
    details_submitted: false,
    email: input.email ?? null,
    external_accounts: {
      object: 'list',
      data: [],
      has_more: false,
      url: `/v1/accounts/${input.id}/external_accounts`,
    },
    future_requirements: nothingDue(),
    metadata: input.metadata ?? {},
    payouts_enabled: false,
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [...INITIAL_REQUIREMENTS],
      disabled_reason: 'requirements.past_due',
      errors: [],
      eventually_due: [...INITIAL_REQUIREMENTS],
      past_due: [...INITIAL_REQUIREMENTS],
      pending_verification: [],
    },
    tos_acceptance: { date: null, ip: null, user_agent: null },
    type: input.type,
  } satisfies Stripe.Account;
  return account;
}

/** The platform's own account, as `GET /v1/account` shows it: onboarded, controlling itself. */
export function platformAccountObject(platform: PlatformRecord): Stripe.Account {
  const base = newAccountObject({
    id: platform.id,
    type: 'standard',
    createdUnix: Math.floor(platform.createdAt / 1000),
  });
  const done = {
    ...base.requirements!,
    currently_due: [],
    eventually_due: [],
    past_due: [],
    disabled_reason: null,
  };
  return {
    ...base,
    business_profile: { ...base.business_profile!, name: platform.name },
    charges_enabled: true,
    controller: { type: 'account' },
    details_submitted: true,
    payouts_enabled: true,
    requirements: done,
  };
}

/**
 * Merge an update into a nested object the way Stripe's hashes behave:
 * nested hashes merge key by key, arrays and scalars replace, '' unsets (null).
 */
export function mergeHash(target: JsonObject, patch: Record<string, unknown>): JsonObject {
  const out: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    if (value === '') out[key] = null;
    else if (isHash(value) && isHash(current)) out[key] = mergeHash(current, value);
    else out[key] = value;
  }
  return out;
}

function isHash(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The account with the requirements `met` says are met taken out of what is
 * due; no longer disabled once nothing is currently or past due. The same
 * account when none were due.
 */
export function withoutRequirements(
  account: Stripe.Account,
  met: (requirement: string) => boolean,
): Stripe.Account {
  const req = account.requirements;
  if (!req || ![req.currently_due, req.eventually_due, req.past_due].some((l) => l?.some(met)))
    return account;
  const keep = (l: string[] | null | undefined) => (l ?? []).filter((r) => !met(r));
  const currentlyDue = keep(req.currently_due);
  const pastDue = keep(req.past_due);
  return {
    ...account,
    requirements: {
      ...req,
      currently_due: currentlyDue,
      eventually_due: keep(req.eventually_due),
      past_due: pastDue,
      disabled_reason: currentlyDue.length === 0 && pastDue.length === 0 ? null : req.disabled_reason,
    },
  };
}
