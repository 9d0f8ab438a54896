/**
 * A connected account's external accounts, driven by the official SDK on both
 * engines: bank accounts from Stripe's test numbers and tokens, debit cards,
 * the default per currency, the `external_account` requirement, and the
 * `account.external_account.*` events on the connected account.
 */

import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ENGINES, harnessPerTest } from './helpers/switchboard.js';

describe.each(ENGINES)('external accounts (%s)', (engine) => {
  const t = harnessPerTest(engine);

  it('created, listed, updated and deleted, each with its event on the connected account', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({
      type: 'custom',
      capabilities: { transfers: { requested: true } },
    });
    expect(acct.requirements?.currently_due).toContain('external_account');

    const bank = (await stripe.accounts.createExternalAccount(acct.id, {
      external_account: {
        object: 'bank_account',
        country: 'US',
        currency: 'usd',
        routing_number: '110000000',
        account_number: '000123456789',
        account_holder_name: 'Jenny Rosen',
      } as unknown as string,
    })) as Stripe.BankAccount;
    expect(bank).toMatchObject({
      object: 'bank_account',
      account: acct.id,
      last4: '6789',
      currency: 'usd',
      default_for_currency: true,
      status: 'new',
      account_holder_name: 'Jenny Rosen',
    });
    const failing = (await stripe.accounts.createExternalAccount(acct.id, {
      external_account: 'btok_us_verified_accountClosed',
    })) as Stripe.BankAccount;
    expect(failing).toMatchObject({ last4: '1113', default_for_currency: false });
    const card = (await stripe.accounts.createExternalAccount(acct.id, {
      external_account: 'tok_visa_debit',
    })) as Stripe.Card;
    expect(card).toMatchObject({ object: 'card', funding: 'debit', last4: '5556' });

    // The requirement is met, and the account lists what it has.
    const after = await stripe.accounts.retrieve(acct.id);
    expect(after.requirements?.currently_due).not.toContain('external_account');
    expect(after.external_accounts?.data.map((e) => e.id).sort()).toEqual(
      [bank.id, failing.id, card.id].sort(),
    );

    const list = await stripe.accounts.listExternalAccounts(acct.id, { object: 'bank_account' });
    expect(list.data.map((e) => e.id)).toEqual([failing.id, bank.id]);
    expect(await stripe.accounts.retrieveExternalAccount(acct.id, bank.id)).toEqual(bank);

    // Making another one the default takes it from the first.
    const promoted = (await stripe.accounts.updateExternalAccount(acct.id, failing.id, {
      default_for_currency: true,
      metadata: { role: 'backup' },
    })) as Stripe.BankAccount;
    expect(promoted).toMatchObject({ default_for_currency: true, metadata: { role: 'backup' } });
    expect(
      ((await stripe.accounts.retrieveExternalAccount(acct.id, bank.id)) as Stripe.BankAccount)
        .default_for_currency,
    ).toBe(false);
    // The default of a currency with others cannot go.
    await expect(stripe.accounts.deleteExternalAccount(acct.id, failing.id)).rejects.toMatchObject({
      statusCode: 400,
    });
    expect(await stripe.accounts.deleteExternalAccount(acct.id, bank.id)).toEqual({
      id: bank.id,
      object: 'bank_account',
      deleted: true,
    });
    await expect(stripe.accounts.retrieveExternalAccount(acct.id, bank.id)).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });

    const events = (await stripe.events.list({ limit: 100 }, { stripeAccount: acct.id })).data.reverse();
    expect(events.map((e) => e.type)).toEqual([
      'account.external_account.created',
      'account.updated',
      'account.external_account.created',
      'account.external_account.created',
      'account.external_account.updated',
      'account.external_account.updated',
      'account.external_account.deleted',
    ]);
    for (const e of events) expect(e.account).toBe(acct.id);
    const requirementMet = events[1]!.data.previous_attributes as {
      requirements?: { currently_due?: string[] };
    };
    expect(requirementMet.requirements?.currently_due).toContain('external_account');
    const promotedEvent = events.find(
      (e) =>
        e.type === 'account.external_account.updated' &&
        (e.data.object as Stripe.BankAccount).id === failing.id,
    )!;
    expect(promotedEvent.data.previous_attributes).toEqual({
      default_for_currency: false,
      metadata: { role: null },
    });
  });

  it('refuses what Stripe refuses, naming the parameter, and is the platform’s to change', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'express' });
    await expect(
      stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_nope' }),
    ).rejects.toMatchObject({
      statusCode: 400,
      param: 'external_account',
    });
    await expect(
      stripe.accounts.createExternalAccount(acct.id, {
        external_account: {
          object: 'bank_account',
          country: 'US',
          currency: 'usd',
          account_number: '12ab',
        } as unknown as string,
      }),
    ).rejects.toMatchObject({ param: 'external_account[account_number]' });
    await expect(
      stripe.accounts.createExternalAccount('acct_nope', { external_account: 'btok_us_verified' }),
    ).rejects.toMatchObject({
      statusCode: 404,
    });
    // Acting as another connected account, this one's external accounts are not there.
    const other = await stripe.accounts.create({ type: 'express' });
    await expect(
      stripe.accounts.listExternalAccounts(acct.id, {}, { stripeAccount: other.id }),
    ).rejects.toMatchObject({ statusCode: 404 });
    expect((await stripe.events.list({}, { stripeAccount: acct.id })).data).toHaveLength(0);
  });
});
