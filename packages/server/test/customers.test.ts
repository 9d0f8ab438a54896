/**
 * Customers, driven by the official SDK on both engines, as the platform and
 * as a connected account: each change commits with its event, the events
 * reach the endpoints the Connect rules name (with `account` for a connected
 * account's), and the object an event names can be fetched as it now is.
 */

import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ENGINES, harnessPerTest, LIVE_KEY, verifiedEvents } from './helpers/switchboard.js';

describe.each(ENGINES)('customers (%s)', (engine) => {
  const t = harnessPerTest(engine);

  async function drain(): Promise<void> {
    while ((await t.h.sb.engine.runOnce()) > 0) {}
  }

  /** The events delivered to a receiver path, verified with that endpoint's secret. */
  const deliveredTo = (path: string, secret: string) => verifiedEvents(t.h, t.rx, secret, path);

  it('create, retrieve, update, list and delete as the platform, each with its event', async () => {
    const stripe = t.h.stripe();
    const ep = await stripe.webhookEndpoints.create({
      url: `${t.rx.url}/own`,
      enabled_events: ['customer.created', 'customer.updated', 'customer.deleted'],
    });

    const created = await stripe.customers.create({
      email: 'jenny@example.com',
      name: 'Jenny Rosen',
      metadata: { order: '5' },
      address: { city: 'Berlin', country: 'DE' },
      preferred_locales: ['de', 'en'],
    });
    expect(created).toMatchObject({
      object: 'customer',
      email: 'jenny@example.com',
      name: 'Jenny Rosen',
      balance: 0,
      livemode: false,
      metadata: { order: '5' },
      address: { city: 'Berlin', country: 'DE', line1: null },
      preferred_locales: ['de', 'en'],
      tax_exempt: 'none',
      created: Math.floor(t.h.clock() / 1000),
    });
    expect(created.id).toMatch(/^cus_\w{14}$/);
    expect(created.invoice_prefix).toMatch(/^[0-9A-F]{8}$/);
    expect(await stripe.customers.retrieve(created.id)).toEqual(created);

    const updated = await stripe.customers.update(created.id, {
      metadata: { order: '6', gift: 'yes' },
      address: { city: 'Hamburg' },
      description: 'VIP',
    });
    expect(updated).toMatchObject({ description: 'VIP', metadata: { order: '6', gift: 'yes' } });
    expect(updated.address?.city).toBe('Hamburg');
    // An update that changes nothing answers the customer and sends no event.
    await stripe.customers.update(created.id, { description: 'VIP' });

    const other = await stripe.customers.create({ email: 'other@example.com' });
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([other.id, created.id]);
    expect((await stripe.customers.list({ email: 'jenny@example.com' })).data.map((c) => c.id)).toEqual([
      created.id,
    ]);
    const page = await stripe.customers.list({ limit: 1 });
    expect(page.has_more).toBe(true);
    expect((await stripe.customers.list({ limit: 1, starting_after: page.data[0]!.id })).data[0]!.id).toBe(
      created.id,
    );

    const deleted = await stripe.customers.del(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'customer', deleted: true });
    expect(await stripe.customers.retrieve(created.id)).toEqual(deleted);
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([other.id]);
    await expect(stripe.customers.update(created.id, { name: 'x' })).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });

    await drain();
    // Deliveries run in parallel and may arrive in any order (as Stripe's); the Events API has the order made.
    const listed = await stripe.events.list({ type: 'customer.*' });
    const delivered = new Map(deliveredTo('/own', ep.secret!).map((e) => [e.id, e]));
    expect([...delivered.keys()].sort()).toEqual(listed.data.map((e) => e.id).sort());
    const events = listed.data.reverse().map((e) => delivered.get(e.id)!);
    expect(events.map((e) => e.type)).toEqual([
      'customer.created',
      'customer.updated',
      'customer.created',
      'customer.deleted',
    ]);
    for (const e of events) expect(e.account).toBeUndefined();
    const [createdEvent, updatedEvent, , deletedEvent] = events;
    expect(createdEvent!.data.object).toEqual(created);
    expect(updatedEvent!.data.object).toEqual(updated);
    // Nested, only what changed.
    expect(updatedEvent!.data.previous_attributes).toEqual({
      address: { city: 'Berlin' },
      description: null,
      metadata: { order: '5', gift: null },
    });
    expect(deletedEvent!.data.object).toEqual(updated);
    // Each names the request that caused it.
    for (const e of events) expect(e.request?.id).toMatch(/^req_/);
  });

  it('a connected account’s customers live in it: Connect endpoints get their events, with account', async () => {
    const stripe = t.h.stripe();
    const acct = await stripe.accounts.create({ type: 'express' });
    const own = await stripe.webhookEndpoints.create({ url: `${t.rx.url}/own`, enabled_events: ['*'] });
    const connect = await stripe.webhookEndpoints.create({
      url: `${t.rx.url}/connect`,
      enabled_events: ['customer.created', 'customer.updated'],
      connect: true,
    });
    await drain();
    t.rx.requests.length = 0;

    const as = { stripeAccount: acct.id };
    const customer = await stripe.customers.create({ email: 'buyer@example.com' }, as);
    await stripe.customers.update(customer.id, { name: 'Buyer' }, as);
    const mine = await stripe.customers.create({ email: 'platform@example.com' });

    // Scoped by account and by mode.
    expect((await stripe.customers.list({}, as)).data.map((c) => c.id)).toEqual([customer.id]);
    expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([mine.id]);
    await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      message: `No such customer: '${customer.id}'`,
    });
    await expect(t.h.stripe(LIVE_KEY).customers.retrieve(mine.id)).rejects.toMatchObject({ statusCode: 404 });

    await drain();
    const connectEvents = deliveredTo('/connect', connect.secret!);
    expect(connectEvents.map((e) => [e.type, e.account]).sort()).toEqual([
      ['customer.created', acct.id],
      ['customer.updated', acct.id],
    ]);
    expect(deliveredTo('/own', own.secret!).map((e) => e.type)).toEqual(['customer.created']);
    // What a platform's handler does: fetch the object the event names, as the connected account.
    const event = connectEvents.find((e) => e.type === 'customer.updated')!;
    const fetched = await stripe.customers.retrieve(
      (event.data.object as Stripe.Customer).id,
      {},
      { stripeAccount: event.account! },
    );
    expect(fetched).toMatchObject({ id: customer.id, name: 'Buyer' });
    expect(event.data.previous_attributes).toEqual({ name: null });
  });

  it('refuses bad parameters with Stripe’s errors, naming the parameter, and stores nothing', async () => {
    const stripe = t.h.stripe();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ colour: 'red' }, 'parameter_unknown', 'colour'],
      [{ address: { town: 'x' } }, 'parameter_unknown', 'address[town]'],
      [{ tax_exempt: 'sometimes' }, 'parameter_invalid', 'tax_exempt'],
      [{ invoice_prefix: 'ab' }, 'parameter_invalid', 'invoice_prefix'],
      [{ email: `${'x'.repeat(510)}@x.io` }, 'parameter_invalid_string_too_long', 'email'],
      [{ shipping: { address: { city: 'x' } } }, 'parameter_missing', 'shipping[name]'],
      [{ balance: 'lots' }, 'parameter_invalid_integer', 'balance'],
    ];
    for (const [params, code, param] of cases) {
      await expect(
        stripe.customers.create(params as Stripe.CustomerCreateParams),
        JSON.stringify(params),
      ).rejects.toMatchObject({
        statusCode: 400,
        code,
        param,
      });
    }
    expect((await stripe.customers.list()).data).toHaveLength(0);
    expect((await stripe.events.list()).data).toHaveLength(0);
  });
});
