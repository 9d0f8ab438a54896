/**
 * `switchboard listen` as a child process against a real server and two real
 * receivers: events forwarded to the right receiver, verified by the official
 * `stripe.webhooks.constructEvent` with the printed secret, output lines in
 * the documented format; a killed and restarted listener loses nothing.
 */

import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../server/test/helpers/receiver.js';
import { type Harness, startHarness, TEST_KEY } from '../../server/test/helpers/switchboard.js';
import { type Spawned, spawnCli, until } from './helpers/spawn.js';

const stripe = new Stripe('sk_test_unused');

describe('switchboard listen', () => {
  let h: Harness;
  let accountRx: Receiver;
  let connectRx: Receiver;
  let acct: string;
  const procs: Spawned[] = [];

  beforeAll(async () => {
    h = await startHarness('sqlite', {
      deliver: true,
      clock: Date.now,
      retrySchedule: [200, 400, 800, 1600],
      idlePollMs: 100,
    });
    accountRx = await startReceiver();
    connectRx = await startReceiver();
    acct = (await h.stripe().accounts.create({ type: 'express' })).id;
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await accountRx?.close();
    await connectRx?.close();
    await h?.close(false);
  });

  const listen = () => {
    const p = spawnCli(
      [
        'listen',
        '--forward-to',
        `${accountRx.url}/webhook`,
        '--forward-connect-to',
        `${connectRx.url}/connect`,
        '--headers',
        'X-Test: yes',
      ],
      { SWITCHBOARD_API_KEY: TEST_KEY, SWITCHBOARD_API_BASE: h.url },
    );
    procs.push(p);
    return p;
  };
  /** Several listens per key all get every event: tests that count arrivals run one at a time. */
  const stopListeners = async () => {
    for (const p of procs) await p.kill('SIGKILL');
  };
  const publish = async (type: string, account?: string) => {
    const res = await h.api(
      'POST',
      '/v1/events',
      { type, data: { object: { id: 'x_1' } } },
      account ? { 'stripe-account': account } : {},
    );
    expect(res.status).toBe(200);
    return res.body.id as string;
  };

  it('forwards account and Connect events, signed, and survives being killed', async () => {
    const first = listen();
    const [, secret] = (await first.waitForOutput(
      /Ready! Your webhook signing secret is (whsec_\w+) \(\^C to quit\)/,
    ))!;
    const own = await publish('customer.created');
    const connected = await publish('payout.failed', acct);
    await accountRx.waitFor(1);
    await connectRx.waitFor(1);
    await first.waitForOutput(new RegExp(`<--  \\[200\\] POST ${connectRx.url}/connect \\[${connected}\\]`));
    const out = first.stdout();
    expect(out).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d   --> customer\\.created \\[${own}\\]$`, 'm'),
    );
    expect(out).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d   --> connect payout\\.failed \\[${connected}\\]$`,
        'm',
      ),
    );
    expect(out).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  <--  \\[200\\] POST ${accountRx.url}/webhook \\[${own}\\]$`,
        'm',
      ),
    );

    for (const req of [...accountRx.requests, ...connectRx.requests]) {
      const event = stripe.webhooks.constructEvent(
        req.body,
        req.headers['stripe-signature'] as string,
        secret!,
      );
      expect(req.headers['x-test']).toBe('yes');
      expect(req.headers['user-agent']).toMatch(/^Stripe\/1.0/);
      expect(event.account === undefined).toBe(req.path === '/webhook');
    }
    // The attempts are in the log like any other delivery.
    const log = (await h.api('GET', `/v1/events/${own}/delivery_attempts`)).body.data;
    expect(log.map((a: { status_code: number }) => a.status_code)).toEqual([200]);

    // Kill the listener; what is published while it is gone arrives after the restart.
    await first.kill('SIGKILL');
    const meanwhile = [await publish('account.updated', acct), await publish('customer.updated')];
    const second = listen();
    const [, secret2] = (await second.waitForOutput(/signing secret is (whsec_\w+)/))!;
    expect(secret2).toBe(secret);
    await second.waitForOutput(
      /Catching up on 2 events published while no listen was running\n/,
      15_000,
      'stderr',
    );
    await until(() => {
      const ids = [...accountRx.requests, ...connectRx.requests].map((r) => JSON.parse(r.body.toString()).id);
      return meanwhile.every((id) => ids.includes(id));
    });
    const all = [...accountRx.requests, ...connectRx.requests].map(
      (r) => JSON.parse(r.body.toString()).id as string,
    );
    // Each event once: nothing lost, nothing forwarded twice (the receivers never failed).
    expect(all.sort()).toEqual([own, connected, ...meanwhile].sort());
  });

  it('every trigger fixture reaches the right receiver, verified, across a listen restart', async () => {
    const env = { SWITCHBOARD_API_KEY: TEST_KEY, SWITCHBOARD_API_BASE: h.url };
    const list = spawnCli(['trigger', '--list'], env);
    expect(await list.exited).toBe(0);
    const fixtures = list.stdout().trim().split('\n');
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    const before = accountRx.requests.length + connectRx.requests.length;
    await stopListeners();
    let listener = listen();
    const [, secret] = (await listener.waitForOutput(/signing secret is (whsec_\w+)/))!;
    const expected: Array<{ id: string; type: string; account?: string }> = [];
    for (const [i, name] of fixtures.entries()) {
      if (i === Math.floor(fixtures.length / 2)) {
        // Kill the listener half-way; the rest is triggered while it is gone, then it comes back.
        await listener.kill('SIGKILL');
      }
      const t = spawnCli(['trigger', name, '--format', 'json'], env);
      procs.push(t);
      expect(await t.exited, t.stderr()).toBe(0);
      const run = JSON.parse(t.stdout()) as { events: Array<{ id: string; type: string; account?: string }> };
      expect(run.events.map((e) => e.type)).toContain(name);
      expected.push(...run.events);
    }
    listener = listen();
    await listener.waitForOutput(/signing secret is/);
    const received = () => [...accountRx.requests, ...connectRx.requests].slice(0);
    await until(() => received().length - before >= expected.length, 20_000);
    const byId = new Map<string, { path: string; header: string; body: Buffer }[]>();
    for (const r of [...accountRx.requests, ...connectRx.requests]) {
      const id = JSON.parse(r.body.toString()).id as string;
      byId.set(id, [
        ...(byId.get(id) ?? []),
        { path: r.path, header: r.headers['stripe-signature'] as string, body: r.body },
      ]);
    }
    for (const e of expected) {
      const got = byId.get(e.id);
      expect(got, `${e.type} ${e.id}`).toHaveLength(1);
      const event = stripe.webhooks.constructEvent(got![0]!.body, got![0]!.header, secret!);
      expect(event.type).toBe(e.type);
      // Connect events (with an account) go to --forward-connect-to, the platform's own to --forward-to.
      expect(got![0]!.path).toBe(event.account ? '/connect' : '/webhook');
    }
    await listener.waitForOutput(/ {3}--> connect \S+ \[evt_\w+\]/);
  });

  it('events resend without an endpoint goes to the running listen session', async () => {
    const env = { SWITCHBOARD_API_KEY: TEST_KEY, SWITCHBOARD_API_BASE: h.url };
    await stopListeners();
    const listener = listen();
    await listener.waitForOutput(/signing secret is/);
    const id = await publish('payout.paid', acct);
    await until(() => connectRx.requests.some((r) => JSON.parse(r.body.toString()).id === id));
    const resend = spawnCli(['events', 'resend', id, '--stripe-account', acct], env);
    procs.push(resend);
    expect(await resend.exited, resend.stderr()).toBe(0);
    const times = () => connectRx.requests.filter((r) => JSON.parse(r.body.toString()).id === id).length;
    await until(() => times() === 2);
    const log = (
      await h.api('GET', `/v1/events/${id}/delivery_attempts`, undefined, { 'stripe-account': acct })
    ).body.data;
    expect(log.map((a: { manual: boolean; status_code: number }) => [a.manual, a.status_code])).toEqual([
      [true, 200],
      [false, 200],
    ]);
  });

  it('trigger customer.created: on the platform it reaches --forward-to and makes no account; with --stripe-account, --forward-connect-to', async () => {
    const env = { SWITCHBOARD_API_KEY: TEST_KEY, SWITCHBOARD_API_BASE: h.url };
    await stopListeners();
    const listener = listen();
    await listener.waitForOutput(/signing secret is/);
    const accountsBefore = (await h.stripe().accounts.list({ limit: 100 })).data.length;
    const own = spawnCli(['trigger', 'customer.created', '--format', 'json'], env);
    procs.push(own);
    expect(await own.exited, own.stderr()).toBe(0);
    const ownEvent = (JSON.parse(own.stdout()) as { events: { id: string; account: string | null }[] })
      .events[0]!;
    expect(ownEvent.account).toBeNull();
    await until(() => accountRx.requests.some((r) => JSON.parse(r.body.toString()).id === ownEvent.id));
    const arrived = JSON.parse(
      accountRx.requests.find((r) => JSON.parse(r.body.toString()).id === ownEvent.id)!.body.toString(),
    );
    expect(arrived.account).toBeUndefined();
    expect((await h.stripe().accounts.list({ limit: 100 })).data.length).toBe(accountsBefore);

    const connected = spawnCli(
      ['trigger', 'customer.created', '--stripe-account', acct, '--format', 'json'],
      env,
    );
    procs.push(connected);
    expect(await connected.exited, connected.stderr()).toBe(0);
    const connectEvent = (JSON.parse(connected.stdout()) as { events: { id: string }[] }).events[0]!;
    await until(() => connectRx.requests.some((r) => JSON.parse(r.body.toString()).id === connectEvent.id));
    expect(accountRx.requests.some((r) => JSON.parse(r.body.toString()).id === connectEvent.id)).toBe(false);
    // A real customer each time: the one an event names can be fetched, in the account it lives in.
    const forwarded = JSON.parse(
      connectRx.requests.find((r) => JSON.parse(r.body.toString()).id === connectEvent.id)!.body.toString(),
    ) as Stripe.Event;
    const customerId = (forwarded.data.object as Stripe.Customer).id;
    expect(await h.stripe().customers.retrieve(customerId, {}, { stripeAccount: acct })).toMatchObject({
      id: customerId,
      email: 'customer@example.com',
    });
    expect((await h.stripe().customers.retrieve((arrived.data.object as Stripe.Customer).id)).id).toBe(
      arrived.data.object.id,
    );
  });

  it('without --forward-to, listen prints the events and forwards nothing', async () => {
    await stopListeners();
    const p = spawnCli(['listen'], { SWITCHBOARD_API_KEY: TEST_KEY, SWITCHBOARD_API_BASE: h.url });
    procs.push(p);
    await p.waitForOutput(/signing secret is/);
    const before = accountRx.requests.length + connectRx.requests.length;
    const id = await publish('customer.created');
    await p.waitForOutput(new RegExp(`--> customer\\.created \\[${id}\\]`));
    expect(accountRx.requests.length + connectRx.requests.length).toBe(before);
  });

  it('--print-secret prints the stable secret and exits', async () => {
    const p = spawnCli(['listen', '--print-secret'], {
      SWITCHBOARD_API_KEY: TEST_KEY,
      SWITCHBOARD_API_BASE: h.url,
    });
    procs.push(p);
    expect(await p.exited).toBe(0);
    expect(p.stdout().trim()).toMatch(/^whsec_\w+$/);
  });

  it('a bad key is one clear line and a non-zero exit', async () => {
    const p = spawnCli(['listen', '--forward-to', accountRx.url], {
      SWITCHBOARD_API_KEY: 'sk_test_notAKeyThisServerKnows',
      SWITCHBOARD_API_BASE: h.url,
    });
    procs.push(p);
    expect(await p.exited).not.toBe(0);
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
    expect(p.stderr()).toMatch(/Invalid API Key provided/);
  });
});
