/**
 * Delivery behaviour with real receivers, stepping the delivery engine and moving
 * a manual clock: retries, disabling, resend, secret rolling, pending_webhooks,
 * and receivers that misbehave.
 */

import { hostname } from 'node:os';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import type { SwitchboardConfig } from '../src/server.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Engine, type Harness, startHarness } from './helpers/switchboard.js';

const stripeLib = new Stripe('sk_test_unused');
const SCHEDULE = [60_000, 120_000, 300_000];

const fail = (status: number) => (_req: unknown, res: import('node:http').ServerResponse) => {
  res.writeHead(status);
  res.end(`failure ${status}`);
};

describe.each(ENGINES)('delivery (%s)', (engine: Engine) => {
  let h: Harness;
  let rx: Receiver;
  let failed = false;
  const open: Array<{ close(): Promise<void> }> = [];

  /** `schedule` null: the server's own (Stripe-like) schedules. */
  async function setup(config: SwitchboardConfig = {}, schedule: readonly number[] | null = SCHEDULE) {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    h = await startHarness(engine, { ...(schedule ? { retrySchedule: schedule } : {}), ...config });
    rx = await startReceiver();
  }
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    for (const o of open.splice(0)) await o.close();
    await rx?.close();
    await h?.close(failed);
  });

  async function endpoint(url = `${rx.url}/hook`, extra: Record<string, unknown> = {}) {
    const res = await h.api('POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'], ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Stripe.WebhookEndpoint;
  }
  async function publish(type = 'customer.created') {
    const res = await h.api('POST', '/v1/events', {
      type,
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    expect(res.status).toBe(200);
    return res.body as Stripe.Event;
  }
  /** Move the clock to the next scheduled attempt. */
  async function advanceToNextDue(): Promise<number> {
    const due = await h.sb.store.nextDueAt();
    expect(due).not.toBeNull();
    h.clock.set(Math.max(h.clock(), due!));
    return due!;
  }
  const attempts = async (eventId: string) =>
    (await h.api('GET', `/v1/events/${eventId}/delivery_attempts?limit=100`)).body.data as any[];

  it('retries failures on the schedule until a 2xx, and pending_webhooks reaches 0', async () => {
    await setup();
    const ep = await endpoint();
    const other = await endpoint(`${rx.url}/other`);
    rx.respond((req, res) => {
      if (req.path === '/hook' && rx.requests.filter((r) => r.path === '/hook').length <= 2)
        fail(500)(req, res);
      else res.end('ok');
    });
    const event = await publish();
    expect(event.pending_webhooks).toBe(2);
    const t0 = h.clock();
    expect(await h.sb.engine.runOnce()).toBe(2);
    expect((await h.api('GET', `/v1/events/${event.id}`)).body.pending_webhooks).toBe(1);
    // Nothing is due until the clock moves.
    expect(await h.sb.engine.runOnce()).toBe(0);
    const due1 = await advanceToNextDue();
    // random = 0.5 means no jitter: exactly the first delay.
    expect(due1 - t0).toBe(SCHEDULE[0]);
    expect(await h.sb.engine.runOnce()).toBe(1);
    const due2 = await advanceToNextDue();
    expect(due2 - due1).toBe(SCHEDULE[1]);
    expect(await h.sb.engine.runOnce()).toBe(1);
    expect(await h.sb.store.nextDueAt()).toBeNull();

    const log = await attempts(event.id);
    const mine = log.filter((a) => a.webhook_endpoint === ep.id);
    expect(mine.map((a) => a.status_code)).toEqual([200, 500, 500]);
    expect(mine[1].error).toBe('http_500');
    expect(mine[1].response_body).toBe('failure 500');
    expect(log.filter((a) => a.webhook_endpoint === other.id)).toHaveLength(1);
    // Every retry is signed afresh with the time of that attempt.
    const stamps = rx.requests
      .filter((r) => r.path === '/hook')
      .map((r) => /t=(\d+)/.exec(r.headers['stripe-signature'] as string)![1]);
    expect(new Set(stamps).size).toBe(3);
    expect((await h.api('GET', `/v1/events/${event.id}`)).body.pending_webhooks).toBe(0);
    const byEndpoint = (await h.api('GET', `/v1/webhook_endpoints/${ep.id}/delivery_attempts`)).body.data;
    expect(byEndpoint).toHaveLength(3);
  });

  it('gives a delivery up after its window, but disables the endpoint only after 3 days without a 2xx, warning first', async () => {
    const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
    await setup({
      logger: { info() {}, error() {}, warn: (m, f) => warnings.push([m, f]) },
    });
    const ep = await endpoint();
    rx.respond(fail(503));
    const first = await publish();
    const failingSince = h.clock();
    await h.sb.engine.runOnce();
    for (let i = 0; i < SCHEDULE.length; i++) {
      await advanceToNextDue();
      expect(await h.sb.engine.runOnce()).toBe(1);
    }
    expect(rx.requests).toHaveLength(1 + SCHEDULE.length);
    expect(await h.sb.store.nextDueAt()).toBeNull();
    // Given up, still owed, listed as not delivered; the endpoint stays, and says when it would be disabled.
    expect((await h.api('GET', `/v1/events/${first.id}`)).body.pending_webhooks).toBe(1);
    const undelivered = (await h.api('GET', '/v1/events?delivery_success=false')).body.data;
    expect(undelivered.map((e: Stripe.Event) => e.id)).toEqual([first.id]);
    const failing = (await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body;
    expect(failing).toMatchObject({
      status: 'enabled',
      failing_since: Math.floor(failingSince / 1000),
      disables_at: Math.floor(failingSince / 1000) + 3 * 24 * 3600,
    });
    expect(warnings).toEqual([]);

    // Two days on, still failing: a warning in the log, nothing disabled.
    h.clock.advance(2 * 24 * 3600_000);
    await publish();
    await h.sb.engine.runOnce();
    expect(warnings.map(([m]) => m)).toEqual(['endpoint failing: it will be disabled']);
    expect(warnings[0]![1]).toMatchObject({ endpoint: ep.id });
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body.status).toBe('enabled');

    // Three days without a 2xx: disabled at the next failure.
    h.clock.advance(24 * 3600_000);
    const third = await publish();
    await h.sb.engine.runOnce();
    const got = (await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body;
    expect(got.status).toBe('disabled');
    expect(got.disabled_reason).toMatch(/^no successful delivery since .* \(3 days of failures\)$/);
    expect(got.failing_since).toBeNull();
    expect(warnings.map(([m]) => m).at(-1)).toBe('endpoint disabled: no 2xx for too long');
    // Its deliveries wait; events created while it is disabled are never sent to it.
    h.clock.advance(24 * 3600_000);
    expect(await h.sb.engine.runOnce()).toBe(0);
    const whileDisabled = await publish();
    expect(whileDisabled.pending_webhooks).toBe(0);

    // Enabled again before they gave up: the retries resume (Stripe: "you can still expect to see future retry
    // attempts").
    rx.respond((_req, res) => res.end('ok'));
    await h.api('POST', `/v1/webhook_endpoints/${ep.id}`, { disabled: false });
    while ((await h.sb.engine.runOnce()) > 0) {}
    const delivered = rx.requests.filter((r) => JSON.parse(r.body.toString()).id === third.id);
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect((await h.api('GET', `/v1/events/${third.id}`)).body.pending_webhooks).toBe(0);
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body).toMatchObject({
      status: 'enabled',
      failing_since: null,
      disables_at: null,
    });
  });

  it('test mode: an endpoint failing for hours is never disabled', async () => {
    await setup({}, null);
    const ep = await endpoint();
    rx.respond(fail(500));
    await publish();
    await h.sb.engine.runOnce();
    // Stripe's test schedule is over in about 2.6 h.
    for (let i = 0; i < 10; i++) {
      h.clock.advance(3 * 3600_000);
      await h.sb.engine.runOnce();
    }
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body.status).toBe('enabled');
  });

  it('does not disable an endpoint that succeeded during the window', async () => {
    await setup();
    const ep = await endpoint();
    rx.respond(fail(500));
    await publish();
    await h.sb.engine.runOnce();
    rx.respond((_req, res) => res.end('ok'));
    await publish();
    await h.sb.engine.runOnce();
    rx.respond(fail(500));
    for (let i = 0; i < SCHEDULE.length; i++) {
      await advanceToNextDue();
      await h.sb.engine.runOnce();
    }
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body.status).toBe('enabled');
  });

  it('disabling an endpoint pauses its retries; deleting it cancels them', async () => {
    await setup();
    const a = await endpoint(`${rx.url}/a`);
    const b = await endpoint(`${rx.url}/b`);
    rx.respond(fail(500));
    await publish();
    await h.sb.engine.runOnce();
    await h.api('POST', `/v1/webhook_endpoints/${a.id}`, { disabled: true });
    await h.api('DELETE', `/v1/webhook_endpoints/${b.id}`);
    expect(await h.sb.store.nextDueAt()).toBeNull();
    h.clock.advance(24 * 3600_000);
    expect(await h.sb.engine.runOnce()).toBe(0);
  });

  it('resends now on POST /v1/events/{id}/retry without cancelling automatic retries', async () => {
    await setup();
    const ep = await endpoint();
    rx.respond(fail(500));
    const event = await publish();
    await h.sb.engine.runOnce();
    const scheduled = await h.sb.store.nextDueAt();
    // A failed resend is logged and leaves the schedule as it was.
    const r1 = await h.api('POST', `/v1/events/${event.id}/retry`, { webhook_endpoint: ep.id });
    expect(r1.status).toBe(200);
    expect(rx.requests).toHaveLength(2);
    expect(await h.sb.store.nextDueAt()).toBe(scheduled);
    // A successful one delivers: nothing owed, the automatic retry is no longer needed.
    rx.respond((_req, res) => res.end('ok'));
    const r2 = await h.api('POST', `/v1/events/${event.id}/retry`, { webhook_endpoint: ep.id });
    expect(r2.body.pending_webhooks).toBe(0);
    const log = await attempts(event.id);
    expect(log.map((a) => [a.status_code, a.manual])).toEqual([
      [200, true],
      [500, true],
      [500, false],
    ]);
    h.clock.advance(3600_000);
    expect(await h.sb.engine.runOnce()).toBe(0);
    // Unknown endpoint and unknown event are precise 4xx.
    expect(
      (await h.api('POST', `/v1/events/${event.id}/retry`, { webhook_endpoint: 'we_nope' })).body.error,
    ).toMatchObject({
      code: 'resource_missing',
      param: 'webhook_endpoint',
    });
    expect((await h.api('POST', '/v1/events/evt_nope/retry', {})).status).toBe(404);
  });

  it('signs with both secrets while a rolled secret overlaps, then with the new one only', async () => {
    await setup();
    const ep = await endpoint();
    const rolled = (await h.api('POST', `/v1/webhook_endpoints/${ep.id}/roll_secret`, { expires_in: 3600 }))
      .body;
    expect(rolled.secret).toMatch(/^whsec_/);
    expect(rolled.secret).not.toBe(ep.secret);
    await publish();
    await h.sb.engine.runOnce();
    const first = rx.requests[0]!;
    const header = first.headers['stripe-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    const now = Math.floor(h.clock() / 1000);
    for (const secret of [ep.secret!, rolled.secret]) {
      expect(stripeLib.webhooks.constructEvent(first.body, header, secret, 300, undefined, now).type).toBe(
        'customer.created',
      );
    }
    h.clock.advance(3601_000);
    await publish();
    await h.sb.engine.runOnce();
    const second = rx.requests[1]!;
    const header2 = second.headers['stripe-signature'] as string;
    expect(header2.match(/v1=/g)).toHaveLength(1);
    const now2 = Math.floor(h.clock() / 1000);
    expect(() =>
      stripeLib.webhooks.constructEvent(second.body, header2, ep.secret!, 300, undefined, now2),
    ).toThrow();
    expect(
      stripeLib.webhooks.constructEvent(second.body, header2, rolled.secret, 300, undefined, now2).id,
    ).toBeTruthy();
    // expires_in is bounded by 24 h.
    const tooLong = await h.api('POST', `/v1/webhook_endpoints/${ep.id}/roll_secret`, { expires_in: 90_000 });
    expect(tooLong.body.error).toMatchObject({ param: 'expires_in' });
  });

  it('records a redirect as a failure and does not follow it', async () => {
    await setup();
    const target = await startReceiver();
    open.push(target);
    rx.respond((_req, res) => {
      res.writeHead(302, { location: `${target.url}/elsewhere` });
      res.end();
    });
    await endpoint();
    const event = await publish();
    await h.sb.engine.runOnce();
    expect(target.requests).toHaveLength(0);
    const [a] = await attempts(event.id);
    expect(a.status_code).toBe(302);
    expect(a.error).toMatch(/redirect/);
  });

  it('times out a receiver that never answers and schedules a retry', async () => {
    await setup({ deliveryTimeoutMs: 300 });
    rx.respond(() => {
      /* never answers */
    });
    await endpoint();
    const event = await publish();
    await h.sb.engine.runOnce();
    const [a] = await attempts(event.id);
    expect(a.status_code).toBeNull();
    expect(a.error).toMatch(/timeout/);
    expect(await h.sb.store.nextDueAt()).toBe(h.clock() + SCHEDULE[0]!);
  });

  it('refuses private targets unless allowed: literal addresses at creation, resolved names at delivery', async () => {
    await setup({ allowPrivateTargets: false });
    const literal = await h.api('POST', '/v1/webhook_endpoints', {
      url: `${rx.url}/hook`,
      enabled_events: ['*'],
    });
    expect(literal.status).toBe(400);
    expect(literal.body.error).toMatchObject({ param: 'url', code: 'url_invalid' });
    expect(literal.body.error.message).toMatch(/--allow-private-targets/);
    expect(
      (
        await h.api('POST', '/v1/webhook_endpoints', {
          url: `http://localhost:${rx.port}/hook`,
          enabled_events: ['*'],
        })
      ).status,
    ).toBe(400);
    // A name that is not obviously local passes creation and is refused when it resolves (here, this
    // machine's own name, which resolves to a loopback or private address).
    await endpoint(`http://${hostname()}:${rx.port}/hook`);
    const event = await publish();
    await h.sb.engine.runOnce();
    expect(rx.requests).toHaveLength(0);
    const [a] = await attempts(event.id);
    expect(a.status_code).toBeNull();
    expect(a.error).toMatch(/private/);
  });
});
