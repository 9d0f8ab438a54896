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
    while ((await h.sb.engine.runOnce()) > 0) {}
  }

  it('delivers each event to exactly the endpoints the Connect rules name, signed per endpoint', async () => {
    onTestFailed(() => {
      failed = true;
    });
    const test = h.stripe();
    const live = h.stripe(LIVE_KEY);
    // Connected in both modes (a Switchboard extension), in live mode only (made with the live key), in test mode only.
    const both = await h.api('POST', '/v1/accounts', { type: 'custom', connect_mode: 'both' });
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    const c1 = both.body as Stripe.Account;
    const cLive = await live.accounts.create({ type: 'express' });
    const cTest = await test.accounts.create({ type: 'express' });
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

    async function publish(type: string, opts: { account?: string; livemode?: boolean } = {}, status = 200) {
      const res = await h.api(
        'POST',
        '/v1/events',
        { type, data: { object: { id: 'obj_1', object: type.split('.')[0] } } },
        {
          ...(opts.account ? { 'stripe-account': opts.account } : {}),
          ...(opts.livemode ? { authorization: `Bearer ${LIVE_KEY}` } : {}),
        },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(status);
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
    // Live only: its live and test events go to live Connect endpoints, never to test ones.
    const e6 = await publish('account.updated', { account: cLive.id, livemode: true });
    expected.set(e6.id, ['/connect-live']);
    const e7 = await publish('account.updated', { account: cLive.id });
    expected.set(e7.id, ['/connect-live']);
    // Test only: its test events go to test Connect endpoints only, and a live key cannot act as it.
    const e8 = await publish('account.updated', { account: cTest.id });
    expected.set(e8.id, ['/connect-test']);
    const refused = await publish('account.updated', { account: cTest.id, livemode: true }, 403);
    expect((refused as unknown as { error: { code: string } }).error.code).toBe('account_invalid');
    await test.accounts.del(c2.id);
    const deauth = await test.events.list(
      { type: 'account.application.deauthorized' },
      { stripeAccount: c2.id },
    );
    expected.set(deauth.data[0]!.id, ['/connect-test']);
    // After deauthorization the platform cannot act as the account, so nothing more of it reaches the platform.
    const after = await h.api(
      'POST',
      '/v1/events',
      { type: 'account.updated', data: { object: {} } },
      { 'stripe-account': c2.id },
    );
    expect(after.status).toBe(403);

    for (const [id, paths] of expected) {
      const accountOf: Record<string, string> = {
        [e3.id]: c1.id,
        [e4.id]: c1.id,
        [e5.id]: c1.id,
        [e6.id]: cLive.id,
        [e7.id]: cLive.id,
        [e8.id]: cTest.id,
        [deauth.data[0]!.id]: c2.id,
      };
      const ev = await h.api('GET', `/v1/events/${id}`, undefined, {
        ...([e2.id, e4.id, e6.id].includes(id) ? { authorization: `Bearer ${LIVE_KEY}` } : {}),
        ...(accountOf[id] ? { 'stripe-account': accountOf[id] } : {}),
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
