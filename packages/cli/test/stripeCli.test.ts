/**
 * The official Stripe CLI (the binary of the npm package `@stripe/cli`),
 * unchanged, against a real Switchboard: `stripe listen` forwards account
 * events to one receiver and Connect events to another, each verified by
 * `stripe.webhooks.constructEvent` with the secret `--print-secret` prints;
 * `stripe trigger` runs Stripe's own fixtures; a listener killed and
 * restarted loses nothing published meanwhile; several listeners at once
 * each get every event; sessions count in no event's `pending_webhooks`.
 */

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReceivedRequest, type Receiver, startReceiver } from '../../server/test/helpers/receiver.js';
import { type Harness, LIVE_KEY, startHarness, TEST_KEY } from '../../server/test/helpers/switchboard.js';
import { type Spawned, until } from './helpers/spawn.js';
import { STRIPE_CLI_PLATFORM, type StripeCli, stripeCli } from './helpers/stripeCli.js';

const stripe = new Stripe('sk_test_unused');

// Elsewhere the package is not installed (an optional dependency for Linux on x64); there it must be.
describe.runIf(STRIPE_CLI_PLATFORM)('the official Stripe CLI against Switchboard', () => {
  let h: Harness;
  let cli: StripeCli;
  let accountRx: Receiver;
  let connectRx: Receiver;
  let secret: string;
  const procs: Spawned[] = [];

  beforeAll(async () => {
    h = await startHarness('sqlite', {
      deliver: true,
      clock: Date.now,
      retrySchedule: [200, 400, 800, 1600],
      idlePollMs: 100,
    });
    cli = stripeCli(h.url, TEST_KEY);
    accountRx = await startReceiver();
    connectRx = await startReceiver();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await accountRx?.close();
    await connectRx?.close();
    await h?.close(false);
    cli?.cleanup();
  });

  const listen = async () => {
    const p = cli.run([
      'listen',
      '--skip-update',
      '--forward-to',
      `${accountRx.url}/webhook`,
      '--forward-connect-to',
      `${connectRx.url}/connect`,
      '--all-snapshot',
    ]);
    procs.push(p);
    await p.waitForOutput(/Ready! .*Your webhook signing secret is (whsec_\w+)/, 20_000, 'stderr');
    return p;
  };
  const publish = async (type: string, object: Record<string, unknown>) => {
    const res = await h.api('POST', '/v1/events', { type, data: { object } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Stripe.Event;
  };
  /** The requests a receiver got for an event, each verified with the session secret. */
  const arrivals = (rx: Receiver, eventId: string) =>
    rx.requests.map((r) => ({ raw: r, event: verified(r, secret) })).filter((r) => r.event.id === eventId);
  const waitArrival = async (rx: Receiver, eventId: string) => {
    await until(() => arrivals(rx, eventId).length > 0);
    return arrivals(rx, eventId)[0]!.event;
  };

  it('--print-secret prints the secret the session signs with', async () => {
    const p = cli.run(['listen', '--print-secret']);
    expect(await p.exited).toBe(0);
    secret = p.stdout().trim();
    expect(secret).toMatch(/^whsec_\w+$/);
  });

  it('listen: Ready! with that secret; account events at --forward-to, Connect events at --forward-connect-to; --> and <-- lines', async () => {
    const p = await listen();
    expect(p.stderr()).toContain(`Your webhook signing secret is ${secret}`);
    expect(p.stderr()).toContain('You are using Stripe API Version [2026-10-28.endive]');

    const own = await publish('customer.created', { id: 'cus_1', object: 'customer' });
    const got = await waitArrival(accountRx, own.id);
    expect(got.account).toBeUndefined();
    expect(arrivals(connectRx, own.id)).toHaveLength(0);
    // Forwarded byte for byte: pretty-printed, as Stripe sends it.
    expect(arrivals(accountRx, own.id)[0]!.raw.body.toString()).toMatch(/^\{\n {2}"id": "evt_/);

    const acct = await h.stripe().accounts.create({ type: 'express' });
    await h.stripe().accounts.update(acct.id, { email: 'seller@example.com' });
    const updates = await h.stripe().events.list({ type: 'account.updated' }, { stripeAccount: acct.id });
    const connectEvent = await waitArrival(connectRx, updates.data[0]!.id);
    expect(connectEvent.account).toBe(acct.id);
    expect(connectEvent.type).toBe('account.updated');

    await until(() => p.stdout().includes(`<--  [200] POST ${connectRx.url}/connect [${connectEvent.id}]`));
    expect(p.stdout()).toMatch(new RegExp(`--> customer\\.created \\[${own.id}\\]`));
    expect(p.stdout()).toMatch(new RegExp(`<-- {2}\\[200\\] POST ${accountRx.url}/webhook \\[${own.id}\\]`));
    expect(p.stdout()).toMatch(new RegExp(`--> connect account\\.updated \\[${connectEvent.id}\\]`));

    // A listen session is not a webhook endpoint: it counts in no event's pending_webhooks.
    expect((await h.stripe().events.retrieve(own.id)).pending_webhooks).toBe(0);
    expect((await h.stripe().events.list({ delivery_success: false })).data).toHaveLength(0);
  });

  it('stripe trigger account.updated and account.application.deauthorized end at the Connect receiver', async () => {
    const before = connectRx.requests.length;
    for (const type of ['account.updated', 'account.application.deauthorized']) {
      const t = cli.run(['trigger', type]);
      expect(await t.exited, t.stdout() + t.stderr()).toBe(0);
      expect(t.stdout()).toMatch(/Trigger succeeded!/);
    }
    const triggered = () => connectRx.requests.slice(before).map((r) => ({ event: verified(r, secret) }));
    await until(() => {
      const types = triggered().map((t) => t.event.type);
      return types.includes('account.updated') && types.includes('account.application.deauthorized');
    });
    for (const { event } of triggered()) expect(event.account).toMatch(/^acct_/);
    const deauthorized = triggered().find((t) => t.event.type === 'account.application.deauthorized')!.event;
    expect((deauthorized.data.object as { object: string }).object).toBe('application');
    expect(accountRx.requests.some((r) => JSON.parse(r.body.toString()).id === deauthorized.id)).toBe(false);
  });

  it('stripe trigger customer.created makes a real customer: on the platform, and with --stripe-account in the connected account', async () => {
    const acct = await h.stripe().accounts.create({ type: 'express' });
    const seen = (rx: Receiver) =>
      rx.requests.map((r) => verified(r, secret)).filter((e) => e.type === 'customer.created');
    const ownBefore = seen(accountRx).length;
    const connectBefore = seen(connectRx).length;
    for (const args of [[], ['--stripe-account', acct.id]]) {
      const t = cli.run(['trigger', 'customer.created', ...args]);
      expect(await t.exited, t.stdout() + t.stderr()).toBe(0);
      expect(t.stdout()).toMatch(/Trigger succeeded!/);
    }
    await until(() => seen(accountRx).length > ownBefore && seen(connectRx).length > connectBefore);
    const own = seen(accountRx).at(-1)!;
    const connected = seen(connectRx).at(-1)!;
    expect(own.account).toBeUndefined();
    expect(connected.account).toBe(acct.id);
    // Stripe's fixture sets the description; the objects the events name exist where the events say.
    const ownCustomer = await h.stripe().customers.retrieve((own.data.object as Stripe.Customer).id);
    expect(ownCustomer).toMatchObject({ description: '(created by Stripe CLI)' });
    const connectedId = (connected.data.object as Stripe.Customer).id;
    expect((await h.stripe().customers.retrieve(connectedId, {}, { stripeAccount: acct.id })).id).toBe(
      connectedId,
    );
    await expect(h.stripe().customers.retrieve(connectedId)).rejects.toMatchObject({ statusCode: 404 });
  });

  it.each([
    ['payment_intent.succeeded', 'payment_intent.succeeded'],
    ['payment_intent.payment_failed', 'payment_intent.payment_failed'],
    ['charge.succeeded', 'charge.succeeded'],
    ['charge.refunded', 'charge.refunded'],
    ['balance.available', 'balance.available'],
  ])(
    'stripe trigger %s makes the real calls, on the platform and with --stripe-account',
    async (fixture, type) => {
      const acct = await h.stripe().accounts.create({ type: 'standard' });
      const seen = (rx: Receiver) =>
        rx.requests.map((r) => verified(r, secret)).filter((e) => e.type === type);
      const ownBefore = seen(accountRx).length;
      const connectBefore = seen(connectRx).length;
      for (const args of [[], ['--stripe-account', acct.id]]) {
        const t = cli.run(['trigger', fixture, ...args]);
        expect(await t.exited, t.stdout() + t.stderr()).toBe(0);
        expect(t.stdout()).toMatch(/Trigger succeeded!/);
      }
      await until(() => seen(accountRx).length > ownBefore && seen(connectRx).length > connectBefore);
      const connected = seen(connectRx).at(-1)!;
      expect(connected.account).toBe(acct.id);
      expect(seen(accountRx).at(-1)!.account).toBeUndefined();
      // The object the event names is there, in the connected account (a balance has no id: it is the account's).
      const object = connected.data.object as { id?: string; object: string };
      const as = { stripeAccount: acct.id };
      if (object.object === 'payment_intent')
        expect((await h.stripe().paymentIntents.retrieve(object.id!, {}, as)).status).toBe(
          type === 'payment_intent.succeeded' ? 'succeeded' : 'requires_payment_method',
        );
      else if (object.object === 'charge')
        expect((await h.stripe().charges.retrieve(object.id!, {}, as)).id).toBe(object.id);
      else expect(await h.stripe().balance.retrieve({}, as)).toMatchObject({ object: 'balance' });
    },
  );

  it('a listener killed and restarted loses nothing published meanwhile', async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    const missed = [
      await publish('customer.created', { id: 'cus_2', object: 'customer' }),
      await publish('customer.updated', { id: 'cus_2', object: 'customer' }),
    ];
    await listen();
    for (const e of missed) expect((await waitArrival(accountRx, e.id)).type).toBe(e.type);
  });

  it('two listeners at once each get every event', async () => {
    const second = await stripeListenTo(cli, procs);
    const e = await publish('customer.created', { id: 'cus_3', object: 'customer' });
    await waitArrival(accountRx, e.id);
    await until(() => second.rx.requests.some((r) => JSON.parse(r.body.toString()).id === e.id));
    await second.rx.close();
  });

  it('--use-configured-webhooks, --events, --headers, --connect-headers, --format JSON and --skip-verify', async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    // Configured endpoints whose paths the CLI forwards to on --forward-to's host (their own host is closed).
    const stripeApi = h.stripe();
    await stripeApi.webhookEndpoints.create({ url: 'http://127.0.0.1:1/hooks/own', enabled_events: ['*'] });
    await stripeApi.webhookEndpoints.create({
      url: 'http://127.0.0.1:1/hooks/connect',
      enabled_events: ['account.updated'],
      connect: true,
    });
    const rx = await startReceiver();
    const p = cli.run([
      'listen',
      '--skip-update',
      '--use-configured-webhooks',
      '--forward-to',
      rx.url,
      '--events',
      'customer.created,account.updated',
      '--headers',
      'X-Own: 1',
      '--connect-headers',
      'X-Connect: 2',
      '--format',
      'JSON',
      '--skip-verify',
    ]);
    procs.push(p);
    await p.waitForOutput(/Ready!/, 20_000, 'stderr');
    const own = await publish('customer.created', { id: 'cus_9', object: 'customer' });
    const filtered = await publish('payout.paid', { id: 'po_9', object: 'payout' });
    const acct = await h.stripe().accounts.create({ type: 'express' });
    await h.stripe().accounts.update(acct.id, { email: 'json@example.com' });
    const update = (await h.stripe().events.list({ type: 'account.updated' }, { stripeAccount: acct.id }))
      .data[0]!;
    await until(() => rx.requests.length >= 2);
    const byPath = Object.fromEntries(rx.requests.map((r) => [r.path, r]));
    expect(Object.keys(byPath).sort()).toEqual(['/hooks/connect', '/hooks/own']);
    expect(byPath['/hooks/own']!.headers['x-own']).toBe('1');
    expect(byPath['/hooks/connect']!.headers['x-connect']).toBe('2');
    expect(verified(byPath['/hooks/own']!, secret).id).toBe(own.id);
    expect(verified(byPath['/hooks/connect']!, secret).id).toBe(update.id);
    // --format JSON: each event as JSON on stdout; --events kept payout.paid out.
    await until(() => p.stdout().includes(update.id));
    const printed = p
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Stripe.Event);
    expect(printed.map((e) => e.id)).toEqual([own.id, update.id]);
    expect(p.stdout()).not.toContain(filtered.id);
    await rx.close();
  });

  it('--live receives live events only, with the live key', async () => {
    for (const p of procs.splice(0)) await p.kill('SIGKILL');
    const live = stripeCli(h.url, LIVE_KEY);
    const rx = await startReceiver();
    try {
      const p = live.run([
        'listen',
        '--skip-update',
        '--live',
        '--forward-to',
        `${rx.url}/live`,
        '--all-snapshot',
      ]);
      procs.push(p);
      const [, liveSecret] = (await p.waitForOutput(
        /Your webhook signing secret is (whsec_\w+)/,
        20_000,
        'stderr',
      ))!;
      expect(liveSecret).not.toBe(secret);
      const testEvent = await publish('customer.created', { id: 'cus_t', object: 'customer' });
      const res = await h.api(
        'POST',
        '/v1/events',
        { type: 'customer.created', data: { object: { id: 'cus_l', object: 'customer' } } },
        { authorization: `Bearer ${LIVE_KEY}` },
      );
      await until(() => rx.requests.length >= 1);
      const got = verified(rx.requests[0]!, liveSecret!);
      expect(got).toMatchObject({ id: res.body.id, livemode: true });
      expect(rx.requests.some((r) => JSON.parse(r.body.toString()).id === testEvent.id)).toBe(false);
    } finally {
      await rx.close();
      live.cleanup();
    }
  });
});

/** The event a forwarded request carries, verified by the official SDK with `secret`. */
function verified(r: ReceivedRequest, secret: string): Stripe.Event {
  return stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, secret);
}

/** A second `stripe listen` forwarding everything to a receiver of its own. */
async function stripeListenTo(cli: StripeCli, procs: Spawned[]): Promise<{ rx: Receiver }> {
  const rx = await startReceiver();
  const p = cli.run(['listen', '--skip-update', '--forward-to', `${rx.url}/second`, '--all-snapshot']);
  procs.push(p);
  await p.waitForOutput(/Ready!/, 20_000, 'stderr');
  return { rx };
}
