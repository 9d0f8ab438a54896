/**
 * The persons of a connected account, driven by the official SDK on both
 * engines: requirements and verification as test mode decides them, the
 * account's representative requirements, and the `person.*` events on the
 * connected account. A person's SSN is never kept.
 */

import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ENGINES, harnessPerTest } from './helpers/switchboard.js';

describe.each(ENGINES)('persons (%s)', (engine) => {
  const t = harnessPerTest(engine);

  const complete = {
    first_name: 'Jenny',
    last_name: 'Rosen',
    email: 'jenny@example.com',
    phone: '+15555550100',
    address: { line1: '510 Townsend St', city: 'San Francisco', state: 'CA', postal_code: '94103' },
    ssn_last_4: '4321',
  };

  it('a representative verified in steps; its names meet the account’s requirements; each change an event', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'custom' });
    expect(acct.requirements?.currently_due).toContain('representative.first_name');

    const person = await stripe.accounts.createPerson(acct.id, {
      first_name: 'Jenny',
      last_name: 'Rosen',
      relationship: { representative: true, title: 'CEO' },
    });
    expect(person).toMatchObject({
      object: 'person',
      account: acct.id,
      first_name: 'Jenny',
      relationship: { representative: true, title: 'CEO', owner: false },
      verification: { status: 'unverified' },
    });
    expect(person.requirements?.currently_due).toEqual(
      expect.arrayContaining(['dob.day', 'email', 'ssn_last_4', 'address.line1']),
    );
    expect(person.requirements?.currently_due).not.toContain('first_name');
    const account = await stripe.accounts.retrieve(acct.id);
    expect(account.requirements?.currently_due).not.toContain('representative.first_name');
    expect(account.requirements?.currently_due).not.toContain('representative.last_name');

    const verified = await stripe.accounts.updatePerson(acct.id, person.id, {
      ...complete,
      dob: { day: 1, month: 1, year: 1901 },
      metadata: { source: 'onboarding' },
    });
    expect(verified).toMatchObject({ verification: { status: 'verified' }, ssn_last_4_provided: true });
    expect(verified.requirements?.currently_due).toEqual([]);
    // The SSN itself is not stored anywhere the API can show.
    expect(JSON.stringify(await stripe.accounts.retrievePerson(acct.id, person.id))).not.toContain('4321');

    const owner = await stripe.accounts.createPerson(acct.id, {
      ...complete,
      first_name: 'Owen',
      dob: { day: 2, month: 3, year: 1980 },
      relationship: { owner: true, percent_ownership: 60 },
    });
    expect(owner.verification?.status).toBe('verified');
    const owners = await stripe.accounts.listPersons(acct.id, { relationship: { owner: true } });
    expect(owners.data.map((p) => p.id)).toEqual([owner.id]);
    expect((await stripe.accounts.listPersons(acct.id)).data.map((p) => p.id)).toEqual([owner.id, person.id]);
    expect(await stripe.accounts.deletePerson(acct.id, owner.id)).toEqual({
      id: owner.id,
      object: 'person',
      deleted: true,
    });
    await expect(stripe.accounts.retrievePerson(acct.id, owner.id)).rejects.toMatchObject({
      statusCode: 404,
    });

    const events = (await stripe.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.reverse();
    expect(events.map((e) => e.type)).toEqual([
      'person.created',
      'account.updated',
      'person.updated',
      'person.created',
      'person.deleted',
    ]);
    for (const e of events) expect(e.account).toBe(acct.id);
    const update = events[2]!;
    expect((update.data.previous_attributes as Partial<Stripe.Person>).verification?.status).toBe(
      'unverified',
    );
    expect(update.data.previous_attributes).toMatchObject({ email: null, metadata: { source: null } });
  });

  it('test mode fails the identity match for a date of birth of 1902-01-01: unverified, with a document due', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'custom' });
    const person = await stripe.accounts.createPerson(acct.id, {
      ...complete,
      dob: { day: 1, month: 1, year: 1902 },
    });
    expect(person.verification).toMatchObject({
      status: 'unverified',
      details_code: 'failed_keyed_identity',
    });
    expect(person.requirements?.currently_due).toEqual(['verification.document']);
    expect(person.requirements?.errors[0]).toMatchObject({
      code: 'verification_failed_keyed_identity',
      requirement: 'verification.document',
    });
    // A corrected date verifies it.
    const fixed = await stripe.accounts.updatePerson(acct.id, person.id, {
      dob: { day: 1, month: 1, year: 1901 },
    });
    expect(fixed.verification?.status).toBe('verified');
  });

  it('refuses bad input by name and changes nothing', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'custom' });
    for (const [params, param] of [
      [{ ssn_last_4: '12' }, 'ssn_last_4'],
      [{ dob: { day: 1, month: 13, year: 1990 } }, 'dob[month]'],
      [{ relationship: { percent_ownership: 101 } }, 'relationship[percent_ownership]'],
      [{ nickname: 'J' }, 'nickname'],
    ] as const)
      await expect(
        stripe.accounts.createPerson(acct.id, params as Stripe.AccountCreatePersonParams),
      ).rejects.toMatchObject({ statusCode: 400, param });
    expect((await stripe.accounts.listPersons(acct.id)).data).toHaveLength(0);
    expect((await stripe.events.list({}, { stripeAccount: acct.id })).data).toHaveLength(0);
  });
});
