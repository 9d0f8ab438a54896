/**
 * Capabilities follow the account's requirements, on both engines: a
 * requested capability is inactive while anything is due, pending while only
 * verifications are pending, active once nothing is; each move is a
 * `capability.updated` after the `account.updated` that caused it.
 */

import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { capabilityStatusOf } from '../src/objects/capability.js';
import { ENGINES, harnessPerTest } from './helpers/switchboard.js';

describe('capabilityStatusOf', () => {
  const account = (r: Record<string, readonly string[]>) =>
    ({ requirements: r }) as unknown as Stripe.Account;
  it.each([
    [{ currently_due: ['external_account'] }, 'inactive'],
    [{ currently_due: [], past_due: ['tos_acceptance.date'] }, 'inactive'],
    [{ currently_due: [], past_due: [], pending_verification: ['representative.dob.day'] }, 'pending'],
    [{ currently_due: [], past_due: [], pending_verification: [] }, 'active'],
  ] as const)('%j → %s', (r, status) => {
    expect(capabilityStatusOf(account(r))).toBe(status);
  });
});

describe.each(ENGINES)('capabilities (%s)', (engine) => {
  const t = harnessPerTest(engine);

  it('become active as the account meets its requirements, each move a capability.updated', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({
      type: 'custom',
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
    });
    expect(acct.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });

    // Everything due is provided except what is still being verified (a Switchboard extension sets requirements).
    // (As JSON: the SDK's form encoding leaves empty arrays out.)
    const update = async (requirements: Record<string, string[]>) =>
      expect((await t.h.api('POST', `/v1/accounts/${acct.id}`, { requirements })).status).toBe(200);
    await update({
      currently_due: [],
      eventually_due: [],
      past_due: [],
      pending_verification: ['individual.dob.day'],
    });
    const listed = await stripe.accounts.listCapabilities(acct.id);
    expect(listed.data.map((c) => [c.id, c.status]).sort()).toEqual([
      ['card_payments', 'pending'],
      ['transfers', 'pending'],
    ]);
    await update({ pending_verification: [] });
    const card = await stripe.accounts.retrieveCapability(acct.id, 'card_payments');
    expect(card).toMatchObject({ object: 'capability', account: acct.id, requested: true, status: 'active' });
    expect((await stripe.accounts.retrieve(acct.id)).capabilities).toEqual({
      card_payments: 'active',
      transfers: 'active',
    });

    const events = (await stripe.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.reverse();
    expect(events.map((e) => e.type)).toEqual([
      'account.updated',
      'capability.updated',
      'capability.updated',
      'account.updated',
      'capability.updated',
      'capability.updated',
    ]);
    const last = events.at(-1)!;
    expect(last.account).toBe(acct.id);
    expect((last.data.object as Stripe.Capability).status).toBe('active');
    expect(last.data.previous_attributes).toEqual({ status: 'pending' });
  });

  it('a capability is requested and dropped through its own route; an unknown one is a 404', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'custom' });
    const requested = await stripe.accounts.updateCapability(acct.id, 'card_payments', { requested: true });
    expect(requested).toMatchObject({ id: 'card_payments', status: 'inactive', requested: true });
    expect((await stripe.accounts.retrieve(acct.id)).capabilities).toEqual({ card_payments: 'inactive' });
    await expect(stripe.accounts.retrieveCapability(acct.id, 'transfers')).rejects.toMatchObject({
      statusCode: 404,
    });
    await stripe.accounts.updateCapability(acct.id, 'card_payments', { requested: false });
    expect((await stripe.accounts.retrieve(acct.id)).capabilities).toEqual({});
  });
});
