/**
 * Payouts of a connected account, driven by the official SDK on both
 * engines and settled by stepping the clock and the scheduler: to a good
 * test bank account a payout is paid; to a failing one it fails with its
 * code, the funds come back, and the bank account is errored so that payouts
 * stop until it is replaced, each step an event the Connect endpoint gets.
 */

import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAYOUT_SETTLE_MS } from '../src/services/payouts.js';
import { ENGINES, harnessPerTest, LIVE_KEY, verifiedEvents } from './helpers/switchboard.js';

describe.each(ENGINES)('payouts (%s)', (engine) => {
  const t = harnessPerTest(engine);

  /** A connected account with an external account and $96.80 available (a $100 bypassPending charge). */
  async function funded(externalAccount: string) {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'custom' });
    const bank = (await stripe.accounts.createExternalAccount(acct.id, {
      external_account: externalAccount,
    })) as Stripe.BankAccount;
    const as = { stripeAccount: acct.id };
    await stripe.paymentIntents.create(
      { amount: 10_000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true },
      as,
    );
    return { stripe, acct, bank, as };
  }

  const available = async (stripe: Stripe, as: Stripe.RequestOptions) =>
    (await stripe.balance.retrieve({}, as)).available.find((a) => a.currency === 'usd')!.amount;

  it('to a failing test bank account: payout.failed with its code, funds back, the bank account errored', async () => {
    const { stripe, acct, bank, as } = await funded('btok_us_verified_accountClosed');
    const connect = await stripe.webhookEndpoints.create({
      url: `${t.rx.url}/connect`,
      enabled_events: ['payout.created', 'payout.failed', 'account.external_account.updated'],
      connect: true,
    });

    const payout = await stripe.payouts.create({ amount: 5000, currency: 'usd' }, as);
    expect(payout).toMatchObject({
      object: 'payout',
      status: 'pending',
      amount: 5000,
      destination: bank.id,
      type: 'bank_account',
    });
    expect(await available(stripe, as)).toBe(9680 - 5000);

    expect(await t.h.sb.scheduler.runOnce()).toBe(0);
    t.h.clock.advance(DEFAULT_PAYOUT_SETTLE_MS);
    expect(await t.h.sb.scheduler.runOnce()).toBe(1);

    const after = await stripe.payouts.retrieve(payout.id, {}, as);
    expect(after).toMatchObject({
      status: 'failed',
      failure_code: 'account_closed',
      failure_message: 'The bank account has been closed.',
    });
    expect(await available(stripe, as)).toBe(9680);
    const returned = await stripe.balanceTransactions.retrieve(
      after.failure_balance_transaction as string,
      {},
      as,
    );
    expect(returned).toMatchObject({ amount: 5000, type: 'payout_failure', source: payout.id });
    const errored = (await stripe.accounts.retrieveExternalAccount(acct.id, bank.id)) as Stripe.BankAccount;
    expect(errored.status).toBe('errored');
    expect((await stripe.accounts.retrieve(acct.id)).external_accounts?.data[0]).toMatchObject({
      status: 'errored',
    });
    // Payouts stop until the bank account is replaced.
    await expect(stripe.payouts.create({ amount: 100, currency: 'usd' }, as)).rejects.toMatchObject({
      statusCode: 400,
      code: 'external_account_errored',
      param: 'destination',
    });

    while ((await t.h.sb.engine.runOnce()) > 0) {}
    const events = verifiedEvents(t.h, t.rx, connect.secret!);
    expect(events.map((e) => e.type).sort()).toEqual([
      'account.external_account.updated',
      'payout.created',
      'payout.failed',
    ]);
    for (const e of events) expect(e.account).toBe(acct.id);
    const failedEvent = events.find((e) => e.type === 'payout.failed')!;
    expect((failedEvent.data.object as Stripe.Payout).failure_code).toBe('account_closed');
    // What the platform's handler does: fetch the payout and its destination, as the connected account.
    const fetched = await stripe.payouts.retrieve(
      (failedEvent.data.object as Stripe.Payout).id,
      {},
      { stripeAccount: failedEvent.account! },
    );
    const destination = await stripe.accounts.retrieveExternalAccount(
      failedEvent.account!,
      fetched.destination as string,
    );
    expect((destination as Stripe.BankAccount).status).toBe('errored');
    expect(
      events.find((e) => e.type === 'account.external_account.updated')!.data.previous_attributes,
    ).toMatchObject({ status: 'new' });
  });

  it('to a good test bank account: payout.paid; more than is available is refused', async () => {
    const { stripe, as } = await funded('btok_us_verified');
    await expect(stripe.payouts.create({ amount: 9681, currency: 'usd' }, as)).rejects.toMatchObject({
      statusCode: 400,
      code: 'balance_insufficient',
    });
    const payout = await stripe.payouts.create(
      { amount: 9680, currency: 'usd', metadata: { batch: '7' } },
      as,
    );
    t.h.clock.advance(DEFAULT_PAYOUT_SETTLE_MS);
    await t.h.sb.scheduler.runOnce();
    expect(await stripe.payouts.retrieve(payout.id, {}, as)).toMatchObject({
      status: 'paid',
      metadata: { batch: '7' },
    });
    expect(await available(stripe, as)).toBe(0);
    expect((await stripe.payouts.list({}, as)).data.map((p) => p.id)).toEqual([payout.id]);
    const types = (await stripe.events.list({ type: 'payout.*' }, as)).data.map((e) => e.type);
    expect(types).toEqual(['payout.paid', 'payout.created']);
    // No external account in that currency: refused, naming the destination.
    await expect(stripe.payouts.create({ amount: 1, currency: 'eur' }, as)).rejects.toMatchObject({
      param: 'destination',
    });
  });

  it('the advance_time test helper settles an account’s payouts now, and only that account’s', async () => {
    const { stripe, acct, as } = await funded('btok_us_verified_noAccount');
    const other = await funded('btok_us_verified');
    const mine = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, as);
    const theirs = await other.stripe.payouts.create({ amount: 1000, currency: 'usd' }, other.as);
    const advance = (seconds: number, account: string | null = acct.id, key?: string) =>
      t.h.api(
        'POST',
        '/v1/test_helpers/advance_time',
        { seconds },
        {
          ...(account ? { 'stripe-account': account } : {}),
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      );
    // Not far enough: nothing is due yet.
    expect((await advance(1)).body).toMatchObject({ object: 'test_helpers.advance_time', steps_run: 0 });
    const res = await advance(DEFAULT_PAYOUT_SETTLE_MS / 1000);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ account: acct.id, steps_run: 1 });
    expect(await stripe.payouts.retrieve(mine.id, {}, as)).toMatchObject({
      status: 'failed',
      failure_code: 'no_account',
    });
    // The other account's payout waits for its own time, and the server's clock did not move.
    expect((await other.stripe.payouts.retrieve(theirs.id, {}, other.as)).status).toBe('pending');
    const [failedEvent] = (await stripe.events.list({ type: 'payout.failed' }, as)).data;
    expect(failedEvent!.created).toBe(Math.floor(t.h.clock() / 1000));
    // `subject` moves one object's time only.
    const first = await stripe.payouts.create(
      {
        amount: 100,
        currency: 'usd',
        destination: (
          await stripe.accounts.createExternalAccount(acct.id, { external_account: 'btok_us_verified' })
        ).id,
      },
      as,
    );
    const second = await stripe.payouts.create(
      { amount: 100, currency: 'usd', destination: first.destination as string },
      as,
    );
    const one = await t.h.api(
      'POST',
      '/v1/test_helpers/advance_time',
      { seconds: 86_400, subject: first.id },
      { 'stripe-account': acct.id },
    );
    expect(one.body).toMatchObject({ steps_run: 1 });
    expect((await stripe.payouts.retrieve(first.id, {}, as)).status).toBe('paid');
    expect((await stripe.payouts.retrieve(second.id, {}, as)).status).toBe('pending');
    // Test mode only; seconds are bounded and required.
    expect((await advance(10, null, LIVE_KEY)).body.error).toMatchObject({ code: 'livemode_mismatch' });
    expect((await advance(0)).body.error).toMatchObject({ param: 'seconds' });
    expect((await t.h.api('POST', '/v1/test_helpers/advance_time', {})).body.error).toMatchObject({
      code: 'parameter_missing',
    });
  });
});
