/**
 * Switchboard → the reference platform, end to end: each recommended Connect
 * event changes the platform's state as the guide says; a duplicate changes
 * nothing; an older account.updated is skipped; a test event on a live
 * Connect endpoint is not acted on; a platform that was down catches up.
 * Both sides share a manual clock; deliveries are stepped.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import {
  type Harness,
  LIVE_KEY,
  startHarness,
  TEST_KEY,
} from '../../../packages/server/test/helpers/switchboard.js';
import { type Platform, startPlatform } from '../src/platform.js';

describe('reference Connect platform', () => {
  let h: Harness;
  let dir: string;
  let platform: Platform | null = null;
  let acct: string;
  let endpoint: { id: string; secret: string };
  let failed = false;

  beforeEach(async () => {
    failed = false;
    h = await startHarness('sqlite', { retrySchedule: [60_000, 60_000, 60_000] });
    dir = mkdtempSync(join(tmpdir(), 'switchboard-platform-'));
    acct = (await h.stripe().accounts.create({ type: 'express' })).id;
  });
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await platform?.close();
    platform = null;
    await h.close(failed);
    if (!failed) rmSync(dir, { recursive: true, force: true });
  });

  async function start(livemode: 'test-only' | 'live-only' = 'test-only', key = TEST_KEY, refetch = false) {
    // A port the system has just handed out and taken back: a random one could be anyone's (it once was).
    const port = await freePort();
    if (!endpoint) {
      const res = await h.api(
        'POST',
        '/v1/webhook_endpoints',
        { url: `http://127.0.0.1:${port}/webhooks/connect`, enabled_events: ['*'], connect: true },
        { authorization: `Bearer ${key}` },
      );
      endpoint = res.body;
    }
    const url = new URL(
      (
        await h.api('GET', `/v1/webhook_endpoints/${endpoint.id}`, undefined, {
          authorization: `Bearer ${key}`,
        })
      ).body.url,
    );
    platform = await startPlatform({
      dbPath: join(dir, 'platform.db'),
      secret: endpoint.secret,
      livemode,
      port: Number(url.port),
      now: h.clock,
      catchUp: { apiBase: h.url, apiKey: TEST_KEY },
      // The test applies events itself, stepping inbox.runOnce().
      worker: false,
      refetch,
    });
    return platform;
  }

  async function publish(type: string, object: Record<string, unknown>, previous?: Record<string, unknown>) {
    // One second apart, as real events mostly are: `created` orders the inbox and guards against stale updates.
    h.clock.advance(1000);
    const res = await h.api(
      'POST',
      '/v1/events',
      { type, data: { object, ...(previous ? { previous_attributes: previous } : {}) } },
      { 'stripe-account': acct },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.id as string;
  }

  /** Deliver what is due, then let the platform's inbox apply it. */
  async function settle(p: Platform) {
    while ((await h.sb.engine.runOnce()) > 0) {}
    while ((await p.inbox.runOnce()).claimed > 0) {}
  }

  const account = (p: Platform) => p.state().accounts.find((a) => a['id'] === acct)!;

  it('acts on each of the seven events, ignores duplicates and older updates', async () => {
    onTestFailed(() => {
      failed = true;
    });
    endpoint = undefined as never;
    const p = await start();

    // account.updated: requirements and capabilities tracked.
    await publish(
      'account.updated',
      {
        id: acct,
        object: 'account',
        charges_enabled: true,
        payouts_enabled: false,
        details_submitted: true,
        requirements: {
          currently_due: ['external_account'],
          eventually_due: ['external_account'],
          past_due: [],
          disabled_reason: null,
          current_deadline: null,
        },
      },
      { charges_enabled: false },
    );
    await settle(p);
    expect(account(p)).toMatchObject({
      charges_enabled: 1,
      payouts_enabled: 0,
      details_submitted: 1,
      currently_due: ['external_account'],
    });

    // An older account.updated (created earlier, delivered later) is skipped by the ordering guard.
    h.clock.advance(-10_000);
    const stale = await publish('account.updated', {
      id: acct,
      object: 'account',
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
    });
    h.clock.advance(20_000);
    await settle(p);
    expect(account(p)['charges_enabled']).toBe(1);
    expect((await p.inbox.store.get(stale))?.status).toBe('skipped');

    // person.updated
    await publish('person.updated', {
      id: 'person_1',
      object: 'person',
      account: acct,
      requirements: {
        currently_due: ['verification.document'],
        past_due: [],
        eventually_due: [],
        pending_verification: [],
        errors: [],
      },
      verification: { status: 'unverified' },
    });
    // account.external_account.updated
    await publish('account.external_account.updated', {
      id: 'ba_1',
      object: 'bank_account',
      account: acct,
      status: 'verified',
      last4: '6789',
      bank_name: 'STRIPE TEST BANK',
      currency: 'usd',
      default_for_currency: true,
    });
    // balance.available
    await publish('balance.available', {
      object: 'balance',
      livemode: false,
      available: [{ amount: 12_345, currency: 'usd', source_types: { card: 12_345 } }],
      pending: [{ amount: 500, currency: 'usd' }],
      connect_reserved: [{ amount: 0, currency: 'usd' }],
    });
    // payment_intent.succeeded fulfils the order it names.
    await p.createOrder({ id: 'order_1', amount: 2000, currency: 'usd', account: acct });
    await publish('payment_intent.succeeded', {
      id: 'pi_1',
      object: 'payment_intent',
      amount: 2000,
      amount_received: 2000,
      currency: 'usd',
      metadata: { order_id: 'order_1' },
    });
    // payout.failed blocks payouts until the external account is updated.
    const payoutFailed = await publish('payout.failed', {
      id: 'po_1',
      object: 'payout',
      amount: 5000,
      currency: 'usd',
      status: 'failed',
      failure_code: 'account_closed',
      failure_message: 'The bank account has been closed.',
      destination: 'ba_1',
    });
    await settle(p);
    let s = p.state();
    expect(s.persons).toEqual([
      expect.objectContaining({
        id: 'person_1',
        account: acct,
        verification_status: 'unverified',
        currently_due: ['verification.document'],
      }),
    ]);
    expect(s.balances).toEqual([
      expect.objectContaining({
        account: acct,
        livemode: 0,
        available: [{ amount: 12_345, currency: 'usd', source_types: { card: 12_345 } }],
      }),
    ]);
    expect(s.orders).toEqual([
      expect.objectContaining({ id: 'order_1', status: 'fulfilled', payment_intent: 'pi_1' }),
    ]);
    expect(s.payout_blocks).toEqual([
      expect.objectContaining({
        account: acct,
        payout: 'po_1',
        failure_code: 'account_closed',
        destination: 'ba_1',
      }),
    ]);
    expect(s.external_accounts).toEqual([
      expect.objectContaining({ id: 'ba_1', status: 'errored', last4: '6789' }),
    ]);

    // A duplicate delivery (a resend) changes nothing.
    const before = p.actions().length;
    const resent = await h.api(
      'POST',
      `/v1/events/${payoutFailed}/retry`,
      { webhook_endpoint: endpoint.id },
      { 'stripe-account': acct },
    );
    expect(resent.status).toBe(200);
    await settle(p);
    expect(p.actions()).toHaveLength(before);

    // The bank account is updated: payouts unblocked.
    await publish('account.external_account.updated', {
      id: 'ba_1',
      object: 'bank_account',
      account: acct,
      status: 'new',
      last4: '4321',
      currency: 'usd',
    });
    await settle(p);
    expect(p.state().payout_blocks).toEqual([]);

    // account.application.deauthorized cleans up.
    expect((await h.api('DELETE', `/v1/accounts/${acct}`)).status).toBe(200);
    await settle(p);
    s = p.state();
    expect(account(p)).toMatchObject({ status: 'deauthorized', charges_enabled: 0 });
    expect(s.persons).toEqual([]);
    expect(s.external_accounts).toEqual([]);
    expect(s.balances).toEqual([]);
    // Events of the same second may be applied in either order (`created` has one-second resolution).
    expect(
      p
        .actions()
        .map((a) => a.type)
        .sort(),
    ).toEqual(
      [
        'account.updated',
        'person.updated',
        'account.external_account.updated',
        'balance.available',
        'payment_intent.succeeded',
        'payout.failed',
        'account.external_account.updated',
        'account.application.deauthorized',
      ].sort(),
    );
  });

  it('does not act on a test event that reaches a live Connect endpoint', async () => {
    onTestFailed(() => {
      failed = true;
    });
    endpoint = undefined as never;
    // Live Connect endpoints get the test events of accounts connected in live mode (test transactions under
    // a production application): this account is one.
    acct = (await h.stripe(LIVE_KEY).accounts.create({ type: 'express' })).id;
    const p = await start('live-only', LIVE_KEY);
    const id = await publish('payout.failed', {
      id: 'po_t',
      object: 'payout',
      amount: 1,
      currency: 'usd',
      status: 'failed',
      failure_code: 'no_account',
      destination: 'ba_t',
    });
    await settle(p);
    // Delivered and acknowledged (the live endpoint receives test events)...
    expect(
      (await h.api('GET', `/v1/events/${id}`, undefined, { 'stripe-account': acct })).body.pending_webhooks,
    ).toBe(0);
    expect((await p.inbox.store.get(id))?.status).toBe('done');
    // ...but nothing happened.
    expect(p.actions()).toEqual([]);
    expect(p.state().payout_blocks).toEqual([]);
  });

  it('a platform that was down catches up on start and loses nothing', async () => {
    onTestFailed(() => {
      failed = true;
    });
    endpoint = undefined as never;
    let p = await start();
    await publish('account.updated', {
      id: acct,
      object: 'account',
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
    });
    await settle(p);
    // Acknowledged and stored, but not yet applied when the platform dies.
    const stored = await publish('person.updated', {
      id: 'person_k',
      object: 'person',
      account: acct,
      verification: { status: 'verified' },
    });
    while ((await h.sb.engine.runOnce()) > 0) {}
    expect((await p.inbox.store.get(stored))?.status).toBe('pending');
    // Killed: the socket and the database go away without a shutdown.
    p.server.closeAllConnections();
    p.server.close();
    p.db.close();
    platform = null;

    // Down: deliveries fail and wait for their retry.
    h.clock.advance(5_000);
    const missed = await publish('payout.failed', {
      id: 'po_m',
      object: 'payout',
      amount: 10,
      currency: 'usd',
      status: 'failed',
      failure_code: 'could_not_process',
      destination: 'ba_m',
    });
    await h.sb.engine.runOnce();
    expect(
      (await h.api('GET', `/v1/events/${missed}/delivery_attempts`, undefined, { 'stripe-account': acct }))
        .body.data[0].status_code,
    ).toBeNull();

    // Back: catch-up through the Events API stores what it missed, without waiting for the retry.
    p = await start();
    expect((await p.inbox.store.get(missed))?.status).toBeDefined();
    while ((await p.inbox.runOnce()).claimed > 0) {}
    expect(p.state().persons).toEqual([
      expect.objectContaining({ id: 'person_k', verification_status: 'verified' }),
    ]);
    expect(p.state().payout_blocks).toEqual([
      expect.objectContaining({ payout: 'po_m', failure_code: 'could_not_process' }),
    ]);
    // When the retry comes, it is a duplicate: acknowledged, not applied twice.
    const before = p.actions().length;
    h.clock.advance(61_000);
    await settle(p);
    expect(p.actions()).toHaveLength(before);
    expect(
      (await h.api('GET', `/v1/events/${missed}`, undefined, { 'stripe-account': acct })).body
        .pending_webhooks,
    ).toBe(0);
  });

  it('re-fetches each object as the connected account: a stale copy in an event is acted on as the object now is', async () => {
    onTestFailed(() => {
      failed = true;
    });
    endpoint = undefined as never;
    const p = await start('test-only', TEST_KEY, true);
    const stripe = h.stripe();
    const as = { stripeAccount: acct };

    // A person verified by now, named by a person.updated whose copy is still unverified.
    const person = await stripe.accounts.createPerson(acct, {
      first_name: 'Jenny',
      last_name: 'Rosen',
      email: 'jenny@example.com',
      phone: '+15555550100',
      dob: { day: 1, month: 1, year: 1901 },
      address: { line1: '510 Townsend St', city: 'San Francisco', state: 'CA', postal_code: '94103' },
      ssn_last_4: '4321',
    });
    await publish('person.updated', {
      id: person.id,
      object: 'person',
      account: acct,
      verification: { status: 'unverified' },
      requirements: { currently_due: ['dob.day'], past_due: [] },
    });
    await settle(p);
    expect(p.state().persons.find((x) => x['id'] === person.id)).toMatchObject({
      verification_status: 'verified',
    });

    // A real payout to a closed test bank account: the platform blocks payouts and marks that bank account.
    const bank = await stripe.accounts.createExternalAccount(acct, {
      external_account: 'btok_us_verified_accountClosed',
    });
    await stripe.paymentIntents.create(
      { amount: 5000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true },
      as,
    );
    const payout = await stripe.payouts.create({ amount: 1000, currency: 'usd' }, as);
    h.clock.advance(60_000);
    expect(await h.sb.scheduler.runOnce()).toBeGreaterThan(0);
    await settle(p);
    expect(p.state().payout_blocks.find((b) => b['account'] === acct)).toMatchObject({
      payout: payout.id,
      failure_code: 'account_closed',
      destination: bank.id,
    });
    expect(p.state().external_accounts.find((x) => x['id'] === bank.id)).toMatchObject({ status: 'errored' });
    expect(p.actions().some((a) => a.summary.includes(`payout ${payout.id} failed (account_closed)`))).toBe(
      true,
    );
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
