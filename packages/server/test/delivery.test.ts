/**
 * Delivery behaviour with real receivers, stepping the dispatcher and moving
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

  async function setup(config: SwitchboardConfig = {}) {
    failed = false;
    onTestFailed(() => {
      failed = true;
    });
    h = await startHarness(engine, { retrySchedule: SCHEDULE, ...config });
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
    expect(await h.sb.dispatcher.runOnce()).toBe(2);
    expect((await h.api('GET', `/v1/events/${event.id}`)).body.pending_webhooks).toBe(1);
    // Nothing is due until the clock moves.
    expect(await h.sb.dispatcher.runOnce()).toBe(0);
    const due1 = await advanceToNextDue();
    // random = 0.5 means no jitter: exactly the first delay.
    expect(due1 - t0).toBe(SCHEDULE[0]);
    expect(await h.sb.dispatcher.runOnce()).toBe(1);
    const due2 = await advanceToNextDue();
    expect(due2 - due1).toBe(SCHEDULE[1]);
    expect(await h.sb.dispatcher.runOnce()).toBe(1);
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

  it('disables an endpoint that fails for its whole retry window, and stops retrying it', async () => {
    await setup();
    const ep = await endpoint();
    rx.respond(fail(503));
    const event = await publish();
    await h.sb.dispatcher.runOnce();
    for (let i = 0; i < SCHEDULE.length; i++) {
      await advanceToNextDue();
      expect(await h.sb.dispatcher.runOnce()).toBe(1);
    }
    expect(rx.requests).toHaveLength(1 + SCHEDULE.length);
    const got = (await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body;
    expect(got.status).toBe('disabled');
    expect(got.disabled_reason).toMatch(/retry window exhausted/);
    expect(await h.sb.store.nextDueAt()).toBeNull();
    // Still owed, and listed as not delivered.
    expect((await h.api('GET', `/v1/events/${event.id}`)).body.pending_webhooks).toBe(1);
    const undelivered = (await h.api('GET', '/v1/events?delivery_success=false')).body.data;
    expect(undelivered.map((e: Stripe.Event) => e.id)).toEqual([event.id]);
    // Events created while it is disabled are never sent to it.
    const later = await publish();
    expect(later.pending_webhooks).toBe(0);
  });

  it('does not disable an endpoint that succeeded during the window', async () => {
    await setup();
    const ep = await endpoint();
    rx.respond(fail(500));
    await publish();
    await h.sb.dispatcher.runOnce();
    rx.respond((_req, res) => res.end('ok'));
    await publish();
    await h.sb.dispatcher.runOnce();
    rx.respond(fail(500));
    for (let i = 0; i < SCHEDULE.length; i++) {
      await advanceToNextDue();
      await h.sb.dispatcher.runOnce();
    }
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.id}`)).body.status).toBe('enabled');
  });

  it('disabling or deleting an endpoint cancels its retries', async () => {
    await setup();
    const a = await endpoint(`${rx.url}/a`);
    const b = await endpoint(`${rx.url}/b`);
    rx.respond(fail(500));
    await publish();
    await h.sb.dispatcher.runOnce();
    await h.api('POST', `/v1/webhook_endpoints/${a.id}`, { disabled: true });
    await h.api('DELETE', `/v1/webhook_endpoints/${b.id}`);
    expect(await h.sb.store.nextDueAt()).toBeNull();
    h.clock.advance(24 * 3600_000);
    expect(await h.sb.dispatcher.runOnce()).toBe(0);
  });

  it('resends now on POST /v1/events/{id}/retry without cancelling automatic retries', async () => {
    await setup();
    const ep = await endpoint();
    rx.respond(fail(500));
    const event = await publish();
    await h.sb.dispatcher.runOnce();
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
    expect(await h.sb.dispatcher.runOnce()).toBe(0);
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
    await h.sb.dispatcher.runOnce();
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
    await h.sb.dispatcher.runOnce();
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
    await h.sb.dispatcher.runOnce();
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
    await h.sb.dispatcher.runOnce();
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
    await h.sb.dispatcher.runOnce();
    expect(rx.requests).toHaveLength(0);
    const [a] = await attempts(event.id);
    expect(a.status_code).toBeNull();
    expect(a.error).toMatch(/private/);
  });
});
