/**
 * A connected account's capabilities: a requested capability is `inactive`
 * while the account has requirements currently or past due, `pending` while
 * only verifications are pending, and `active` once nothing is due. Pure.
 */

import type Stripe from 'stripe';
import { nothingDue } from './account.js';

export type CapabilityStatus = 'active' | 'inactive' | 'pending';

/** The status every requested capability of the account has, by its requirements. */
export function capabilityStatusOf(account: Stripe.Account): CapabilityStatus {
  const r = account.requirements;
  if ((r?.currently_due?.length ?? 0) > 0 || (r?.past_due?.length ?? 0) > 0) return 'inactive';
  if ((r?.pending_verification?.length ?? 0) > 0) return 'pending';
  return 'active';
}

/** The account with each of its capabilities' status worked out again. */
export function withCapabilityStatuses(account: Stripe.Account): Stripe.Account {
  const names = Object.keys(account.capabilities ?? {});
  if (names.length === 0) return account;
  const status = capabilityStatusOf(account);
  const capabilities = Object.fromEntries(names.map((n) => [n, status])) as Stripe.Account['capabilities'];
  return { ...account, capabilities };
}

/** The capabilities whose status an account change moved (a new one's was nothing). */
export function changedCapabilities(
  before: Stripe.Account,
  after: Stripe.Account,
): { name: string; from: CapabilityStatus | null; to: CapabilityStatus }[] {
  const was = (before.capabilities ?? {}) as Record<string, CapabilityStatus | undefined>;
  return Object.entries((after.capabilities ?? {}) as Record<string, CapabilityStatus>)
    .filter(([name, to]) => was[name] !== to)
    .map(([name, to]) => ({ name, from: was[name] ?? null, to }));
}

/** A capability as `/v1/accounts/{id}/capabilities/{name}` answers it and `capability.updated` carries it. */
export function capabilityObject(account: Stripe.Account, name: string): Stripe.Capability {
  const r = account.requirements;
  const status = ((account.capabilities ?? {}) as Record<string, CapabilityStatus>)[name] ?? 'inactive';
  return {
    id: name,
    object: 'capability',
    account: account.id,
    future_requirements: nothingDue(),
    requested: true,
    requested_at: account.created ?? null,
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: r?.currently_due ?? [],
      disabled_reason: status === 'active' ? null : 'requirements.fields_needed',
      errors: r?.errors ?? [],
      eventually_due: r?.eventually_due ?? [],
      past_due: r?.past_due ?? [],
      pending_verification: r?.pending_verification ?? [],
    },
    status,
  } as Stripe.Capability;
}
