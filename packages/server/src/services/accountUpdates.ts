/**
 * An account change as Stripe publishes it: `account.updated` with what
 * changed, then a `capability.updated` for each capability whose status the
 * change moved (objects/capability.ts), each committed with its part.
 */

import type Stripe from 'stripe';
import { capabilityObject, changedCapabilities, withCapabilityStatuses } from '../objects/capability.js';
import { previousAttributes } from '../objects/previousAttributes.js';
import type { EventEffect } from '../store/types.js';
import { asJson } from './objects.js';
import { type PublishDeps, publishEvent } from './publish.js';

export interface EventFields {
  accountId: string;
  livemode: boolean;
  apiVersion: string;
  requestId: string | null;
  idempotencyKey: string | null;
}

/**
 * Publish `changed` (capability statuses worked out again) as the account's
 * new state; nothing when nothing changed. `effect` rides along with
 * `account.updated`. Returns the account as stored.
 */
export async function publishAccountUpdate(
  deps: PublishDeps,
  fields: EventFields,
  before: Stripe.Account,
  changed: Stripe.Account,
  effect: Omit<EventEffect, 'account'> = {},
): Promise<Stripe.Account> {
  const after = withCapabilityStatuses(changed);
  const previous = previousAttributes(asJson(before), asJson(after));
  if (Object.keys(previous).length === 0) return before;
  await publishEvent(deps, {
    ...fields,
    effect: { ...effect, account: { id: after.id, object: asJson(after) } },
    type: 'account.updated',
    object: asJson(after),
    previousAttributes: previous,
  });
  for (const { name, from } of changedCapabilities(before, after)) {
    await publishEvent(deps, {
      ...fields,
      type: 'capability.updated',
      object: asJson(capabilityObject(after, name)),
      previousAttributes: { status: from },
    });
  }
  return after;
}
