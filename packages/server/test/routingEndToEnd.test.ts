/**
 * The whole routing table end to end: real receivers, real deliveries, every
 * delivery verified by the official `stripe.webhooks.constructEvent` with the
 * secret of the endpoint it was sent to.
 */

import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Harness, LIVE_KEY, startHarness } from './helpers/switchboard.js';

const stripeLib = new Stripe('sk_test_unused');

describe.each(ENGINES)('routing end to end (%s)', (engine) => {
  let h: Harness;
  let rx: Receiver;
  let failed = false;
  beforeEach(async () => {
    failed = false;
    h = await startHarness(engine);
    rx = await startReceiver();
  });
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await rx.close();
    await h.close(failed);
  });

  async function drain(): Promise<void> {
    while ((await h.sb.dispatcher.runOnce()) > 0) {}
  }

  it('delivers each event to exactly the endpoints the Connect rules name, signed per endpoint', async () => {
    onTestFailed(() => {
      failed = true;
    });
    const test = h.stripe();
    const live = h.stripe(LIVE_KEY);
    const c1 = await test.accounts.create({ type: 'custom' });
    const c2 = await test.accounts.create({ type: 'standard' });

    const secrets = new Map<string, string>(); // path → secret
    async function endpoint(
      client: Stripe,
      path: string,
      params: Partial<Stripe.WebhookEndpointCreateParams> = {},
      stripeAccount?: string,
    ) {
      const ep = await client.webhookEndpoints.create(
        { url: `${rx.url}${path}`, enabled_events: ['*'], ...params },
        stripeAccount ? { stripeAccount } : {},
      );
      secrets.set(path, ep.secret!);
      return ep;
    }
    await endpoint(test, '/acct-test');
    await endpoint(live, '/acct-live');
    await endpoint(test, '/connect-test', { connect: true });
    await endpoint(live, '/connect-live', { connect: true });
    await endpoint(test, '/connect-payouts', { connect: true, enabled_events: ['payout.failed'] });
    const off = await endpoint(test, '/connect-disabled', { connect: true });
    await test.webhookEndpoints.update(off.id, { disabled: true });
    await endpoint(test, '/c1-own', {}, c1.id);

    async function publish(type: string, opts: { account?: string; livemode?: boolean } = {}) {
      const res = await h.api(
        'POST',
        '/v1/events',
        { type, data: { object: { id: 'obj_1', object: type.split('.')[0] } } },
        {
          ...(opts.account ? { 'stripe-account': opts.account } : {}),
          ...(opts.livemode ? { authorization: `Bearer ${LIVE_KEY}` } : {}),
        },
      );
      expect(res.status).toBe(200);
      return res.body as Stripe.Event;
    }

    const expected = new Map<string, string[]>();
    const e1 = await publish('customer.created');
    expected.set(e1.id, ['/acct-test']);
    const e2 = await publish('customer.created', { livemode: true });
    expected.set(e2.id, ['/acct-live']);
    const e3 = await publish('account.updated', { account: c1.id });
    expected.set(e3.id, ['/c1-own', '/connect-live', '/connect-test']);
    const e4 = await publish('account.updated', { account: c1.id, livemode: true });
    expected.set(e4.id, ['/connect-live']);
    const e5 = await publish('payout.failed', { account: c1.id });
    expected.set(e5.id, ['/c1-own', '/connect-live', '/connect-payouts', '/connect-test']);
    await test.accounts.del(c2.id);
    const deauth = await test.events.list(
      { type: 'account.application.deauthorized' },
      { stripeAccount: c2.id },
    );
    expected.set(deauth.data[0]!.id, ['/connect-live', '/connect-test']);
    // After deauthorization the platform cannot act as the account, so nothing more of it reaches the platform.
    const after = await h.api(
      'POST',
      '/v1/events',
      { type: 'account.updated', data: { object: {} } },
      { 'stripe-account': c2.id },
    );
    expect(after.status).toBe(403);

    for (const [id, paths] of expected) {
      const ev = await h.api('GET', `/v1/events/${id}`, undefined, {
        ...(id === e2.id || id === e4.id ? { authorization: `Bearer ${LIVE_KEY}` } : {}),
        ...([e3.id, e4.id, e5.id].includes(id) ? { 'stripe-account': c1.id } : {}),
        ...(id === deauth.data[0]!.id ? { 'stripe-account': c2.id } : {}),
      });
      expect(ev.body.pending_webhooks, id).toBe(paths.length);
    }

    await drain();
    const total = [...expected.values()].reduce((n, p) => n + p.length, 0);
    expect(rx.requests).toHaveLength(total);

    const got = new Map<string, string[]>();
    for (const req of rx.requests) {
      const secret = secrets.get(req.path)!;
      const header = req.headers['stripe-signature'] as string;
      // The official verifier accepts the exact bytes with this endpoint's secret.
      const event = stripeLib.webhooks.constructEvent(
        req.body,
        header,
        secret,
        300,
        undefined,
        Math.floor(h.clock() / 1000),
      );
      got.set(event.id, [...(got.get(event.id) ?? []), req.path].sort());
      expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(req.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      expect(req.headers['cache-control']).toBe('no-cache');
      expect(req.headers['accept']).toBe('*/*; q=0.5, application/xml');
      // Test events carry a meaningless v0 next to v1; live ones only v1.
      expect(header.includes(',v0=')).toBe(!event.livemode);
      // Connect events name their account; the platform's own do not.
      expect(event.account === undefined).toBe(req.path.startsWith('/acct-'));
    }
    expect(Object.fromEntries(got)).toEqual(
      Object.fromEntries([...expected].map(([k, v]) => [k, [...v].sort()])),
    );

    // Everything answered 2xx: nothing is owed any more.
    const e3Now = await test.events.retrieve(e3.id, {}, { stripeAccount: c1.id });
    expect(e3Now.pending_webhooks).toBe(0);
    expect((await test.events.list({ delivery_success: false }, { stripeAccount: c1.id })).data).toHaveLength(
      0,
    );
  });
});
