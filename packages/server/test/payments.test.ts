/**
 * Card payments, driven by the official SDK on both engines: payment intents
 * with Stripe's test payment methods, their charges, balance transactions,
 * the balance, refunds, and the events of each step, as the platform and as a
 * connected account (a direct charge). Time moves by the harness clock.
 */

import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FUNDS_PENDING_MS } from '../src/services/payments.js';
import { ENGINES, harnessPerTest, verifiedEvents } from './helpers/switchboard.js';

describe.each(ENGINES)('payments (%s)', (engine) => {
  const t = harnessPerTest(engine);

  async function drain(): Promise<void> {
    while ((await t.h.sb.engine.runOnce()) > 0) {}
  }

  /** Event types of an account in the order they were made (the Events API lists newest first). */
  async function eventTypes(stripeAccount?: string): Promise<string[]> {
    const list = await t.h.stripe().events.list({ limit: 100 }, stripeAccount ? { stripeAccount } : {});
    return list.data.map((e) => e.type).reverse();
  }

  it('pm_card_visa: the payment succeeds, its charge and balance transaction exist, funds pending then available', async () => {
    const stripe = t.h.stripe();
    const customer = await stripe.customers.create({ email: 'buyer@example.com' });
    const intent = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      description: 'Order 42',
      metadata: { order: '42' },
    });
    expect(intent).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 2000,
      amount_received: 2000,
      currency: 'usd',
      customer: customer.id,
      metadata: { order: '42' },
      livemode: false,
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.payment_method).toMatch(/^pm_/);
    expect(intent.payment_method).not.toBe('pm_card_visa');

    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({
      status: 'succeeded',
      paid: true,
      captured: true,
      amount: 2000,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      outcome: { type: 'authorized' },
      payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
    });
    const pm = await stripe.paymentMethods.retrieve(intent.payment_method as string);
    expect(pm).toMatchObject({ type: 'card', card: { last4: '4242' } });
    const txn = await stripe.balanceTransactions.retrieve(charge.balance_transaction as string);
    // Stripe's US card pricing: 2.9% + 30¢.
    expect(txn).toMatchObject({
      amount: 2000,
      fee: 88,
      net: 1912,
      type: 'charge',
      source: charge.id,
      status: 'pending',
    });

    expect(await stripe.balance.retrieve()).toMatchObject({
      available: [{ amount: 0, currency: 'usd' }],
      pending: [{ amount: 1912, currency: 'usd' }],
    });
    // Not due yet: the scheduler runs nothing.
    expect(await t.h.sb.scheduler.runOnce()).toBe(0);
    t.h.clock.advance(DEFAULT_FUNDS_PENDING_MS);
    expect(await t.h.sb.scheduler.runOnce()).toBe(1);
    expect(await t.h.sb.scheduler.runOnce()).toBe(0);
    expect(await stripe.balance.retrieve()).toMatchObject({
      available: [{ amount: 1912, currency: 'usd' }],
      pending: [{ amount: 0, currency: 'usd' }],
    });
    expect((await stripe.balanceTransactions.retrieve(txn.id)).status).toBe('available');

    expect(await eventTypes()).toEqual([
      'customer.created',
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'balance.available',
    ]);
    // Sent when the funds became available, with the balance then.
    const [available] = (await stripe.events.list({ type: 'balance.available' })).data;
    expect((available!.data.object as Stripe.Balance).available[0]!.amount).toBe(1912);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data.map((p) => p.id)).toEqual([
      intent.id,
    ]);
    expect((await stripe.charges.list({ payment_intent: intent.id })).data.map((c) => c.id)).toEqual([
      charge.id,
    ]);
    // Confirming again is refused with the intent's state.
    await expect(stripe.paymentIntents.confirm(intent.id)).rejects.toMatchObject({
      statusCode: 400,
      code: 'payment_intent_unexpected_state',
    });
  });

  it('pm_card_chargeDeclined: Stripe’s card_error, a failed charge and payment_intent.payment_failed', async () => {
    const stripe = t.h.stripe();
    const error = await stripe.paymentIntents
      .create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    const cardError = error as Stripe.errors.StripeCardError;
    expect(cardError).toMatchObject({
      statusCode: 402,
      type: 'StripeCardError',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
    });
    const intent = cardError.payment_intent!;
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({
      code: 'card_declined',
      decline_code: 'generic_decline',
    });
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({
      status: 'failed',
      paid: false,
      failure_code: 'card_declined',
      outcome: { reason: 'generic_decline' },
    });
    expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe('requires_payment_method');
    expect(await eventTypes()).toEqual([
      'payment_intent.created',
      'charge.failed',
      'payment_intent.payment_failed',
    ]);
    expect((await stripe.balance.retrieve()).available).toEqual([
      { amount: 0, currency: 'usd', source_types: { card: 0 } },
    ]);

    // The customer tries another card: the same intent succeeds.
    const retried = await stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_mastercard' });
    expect(retried.status).toBe('succeeded');
  });

  it('pm_card_bypassPending: the funds are available at once, with balance.available', async () => {
    const stripe = t.h.stripe();
    await stripe.paymentIntents.create({
      amount: 10_000,
      currency: 'usd',
      payment_method: 'pm_card_bypassPending',
      confirm: true,
    });
    const balance = await stripe.balance.retrieve();
    expect(balance.available).toEqual([
      { amount: 10_000 - 320, currency: 'usd', source_types: { card: 9_680 } },
    ]);
    expect(await eventTypes()).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'balance.available',
    ]);
    const [event] = (await stripe.events.list({ type: 'balance.available' })).data;
    expect(event!.data.object).toEqual(balance);
  });

  it('refunds, in part and then the rest; a refund larger than what is left is refused', async () => {
    const stripe = t.h.stripe();
    const intent = await stripe.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_bypassPending',
      confirm: true,
    });
    const part = await stripe.refunds.create({
      payment_intent: intent.id,
      amount: 1000,
      reason: 'requested_by_customer',
    });
    expect(part).toMatchObject({
      object: 'refund',
      amount: 1000,
      status: 'succeeded',
      payment_intent: intent.id,
    });
    await expect(
      stripe.refunds.create({ charge: intent.latest_charge as string, amount: 4001 }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount',
    });
    const rest = await stripe.refunds.create({ charge: intent.latest_charge as string });
    expect(rest.amount).toBe(4000);
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });
    await expect(stripe.refunds.create({ charge: charge.id })).rejects.toMatchObject({
      code: 'charge_already_refunded',
    });
    expect(await stripe.refunds.retrieve(part.id)).toEqual(part);
    expect((await stripe.refunds.list({ charge: charge.id })).data.map((r) => r.id)).toEqual([
      rest.id,
      part.id,
    ]);
    // The charge's net (5000 − 175 fee) less 5000 refunded.
    expect((await stripe.balance.retrieve()).available[0]!.amount).toBe(-175);
    const refunded = (await stripe.events.list({ type: 'charge.refunded' })).data;
    expect(refunded.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([5000, 1000]);
    expect(refunded[1]!.data.previous_attributes).toEqual({ amount_refunded: 0, refunded: false });
  });

  it('a direct charge on a connected account lives there: Connect endpoints get its events, with account', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'standard' });
    const connect = await stripe.webhookEndpoints.create({
      url: `${t.rx.url}/connect`,
      enabled_events: ['payment_intent.succeeded', 'charge.succeeded'],
      connect: true,
    });
    await drain();
    t.rx.requests.length = 0;
    const as = { stripeAccount: acct.id };
    const intent = await stripe.paymentIntents.create(
      { amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      as,
    );
    await expect(stripe.paymentIntents.retrieve(intent.id)).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    expect((await stripe.balance.retrieve()).pending[0]!.amount).toBe(0);
    expect((await stripe.balance.retrieve({}, as)).pending[0]!.amount).toBe(1500 - 74);

    await drain();
    const events = verifiedEvents(t.h, t.rx, connect.secret!);
    expect(events.map((e) => [e.type, e.account]).sort()).toEqual([
      ['charge.succeeded', acct.id],
      ['payment_intent.succeeded', acct.id],
    ]);
    // What the platform's handler does: fetch what the event names, as the connected account.
    const succeeded = events.find((e) => e.type === 'payment_intent.succeeded')!;
    const fetched = await stripe.paymentIntents.retrieve(
      (succeeded.data.object as Stripe.PaymentIntent).id,
      {},
      { stripeAccount: succeeded.account! },
    );
    const charge = await stripe.charges.retrieve(
      fetched.latest_charge as string,
      {},
      { stripeAccount: succeeded.account! },
    );
    expect(charge.amount).toBe(1500);
  });

  it('created without confirming, then confirmed or canceled; bad parameters are refused by name', async () => {
    const stripe = t.h.stripe();
    const open = await stripe.paymentIntents.create({ amount: 700, currency: 'eur' });
    expect(open.status).toBe('requires_payment_method');
    await expect(stripe.paymentIntents.confirm(open.id)).rejects.toMatchObject({
      code: 'payment_intent_unexpected_state',
      param: 'payment_method',
    });
    expect((await stripe.paymentIntents.confirm(open.id, { payment_method: 'pm_card_amex' })).status).toBe(
      'succeeded',
    );
    const other = await stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      payment_method: 'pm_card_visa',
    });
    expect(other.status).toBe('requires_confirmation');
    const canceled = await stripe.paymentIntents.cancel(other.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    await expect(stripe.paymentIntents.cancel(other.id)).rejects.toMatchObject({
      code: 'payment_intent_unexpected_state',
    });

    const refusals: [Stripe.PaymentIntentCreateParams, string, string][] = [
      [{ amount: 20, currency: 'usd' }, 'amount_too_small', 'amount'],
      [{ currency: 'usd' } as Stripe.PaymentIntentCreateParams, 'parameter_missing', 'amount'],
      [
        { amount: 700, currency: 'usd', payment_method: 'pm_nope', confirm: true },
        'resource_missing',
        'payment_method',
      ],
      [{ amount: 700, currency: 'usd', customer: 'cus_nope' }, 'resource_missing', 'customer'],
      [
        { amount: 700, currency: 'usd', transfer_data: { destination: 'acct_1' } },
        'parameter_unknown',
        'transfer_data',
      ],
      [{ amount: 700, currency: 'usd', capture_method: 'manual' }, 'parameter_invalid', 'capture_method'],
    ];
    for (const [params, code, param] of refusals)
      await expect(stripe.paymentIntents.create(params), JSON.stringify(params)).rejects.toMatchObject({
        statusCode: code === 'resource_missing' ? 404 : 400,
        code,
        param,
      });
  });
});
