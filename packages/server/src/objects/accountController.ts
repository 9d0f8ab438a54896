/**
 * An account's `controller` properties and the legacy `type` they amount to,
 * as Stripe derives it ("Migrate to controller properties"): standard = full
 * dashboard, the account pays fees, Stripe takes losses and collects
 * requirements; express = Express dashboard, the platform pays fees and takes
 * losses, Stripe collects requirements; custom = no dashboard, the platform
 * pays, takes losses and collects requirements; any other mix is `none`. Pure.
 */

import type Stripe from 'stripe';

export interface ControllerProperties {
  feesPayer: 'account' | 'application';
  lossesPayments: 'application' | 'stripe';
  requirementCollection: 'application' | 'stripe';
  dashboard: 'express' | 'full' | 'none';
}

export type DerivedAccountType = 'standard' | 'express' | 'custom' | 'none';

/** The choices Stripe makes for what `controller` leaves out. */
const DEFAULTS: ControllerProperties = {
  feesPayer: 'account',
  lossesPayments: 'stripe',
  requirementCollection: 'stripe',
  dashboard: 'full',
};

const BY_TYPE: Record<'standard' | 'express' | 'custom', ControllerProperties> = {
  standard: DEFAULTS,
  express: {
    feesPayer: 'application',
    lossesPayments: 'application',
    requirementCollection: 'stripe',
    dashboard: 'express',
  },
  custom: {
    feesPayer: 'application',
    lossesPayments: 'application',
    requirementCollection: 'application',
    dashboard: 'none',
  },
};

export const controllerForType = (type: 'standard' | 'express' | 'custom'): ControllerProperties =>
  BY_TYPE[type];

export const withDefaults = (given: Partial<ControllerProperties>): ControllerProperties => ({
  ...DEFAULTS,
  ...given,
});

export function typeOfController(c: ControllerProperties): DerivedAccountType {
  for (const type of ['standard', 'express', 'custom'] as const) {
    const t = BY_TYPE[type];
    if (
      t.feesPayer === c.feesPayer &&
      t.lossesPayments === c.lossesPayments &&
      t.requirementCollection === c.requirementCollection &&
      t.dashboard === c.dashboard
    )
      return type;
  }
  return 'none';
}

/** The `controller` hash of the account object, as the controlling platform reads it. */
export function controllerObject(c: ControllerProperties): Stripe.Account.Controller {
  return {
    fees: { payer: c.feesPayer },
    is_controller: true,
    losses: { payments: c.lossesPayments },
    requirement_collection: c.requirementCollection,
    stripe_dashboard: { type: c.dashboard },
    type: 'application',
  };
}
