/**
 * Publish hand-off: the running engine's intake takes a fresh event's deliveries
 * straight from the publish (stored leased to it), without a claim query,
 * as long as it has free slots and the endpoint has nothing older due.
 */

import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandOff } from '../src/delivery/intake.js';
import type { AttemptResult, ClaimOptions } from '../src/store/types.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Harness, startHarness } from './helpers/switchboard.js';

describe.each(ENGINES)('publish hand-off (%s)', (engine) => {
  let h: Harness;
  const receivers: Receiver[] = [];
  let failed = false;
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    for (const r of receivers.splice(0)) await r.close();
    await h?.close(failed);
  });

  /** A running server whose store reports which deliveries its claims returned. */
  async function start(config: { perEndpointConcurrency?: number; idlePollMs?: number } = {}) {
    h = await startHarness(engine, { deliver: true, idlePollMs: 20, ...config });
    const claimedIds: string[] = [];
    const claimDue = h.sb.store.claimDue.bind(h.sb.store);
    const recordAndClaim = h.sb.store.recordAndClaim.bind(h.sb.store);
    h.sb.store.claimDue = async (o: ClaimOptions) => {
      const claimed = await claimDue(o);
      claimedIds.push(...claimed.map((c) => c.id));
      return claimed;
    };
    h.sb.store.recordAndClaim = async (results: AttemptResult[], o: ClaimOptions) => {
      const claimed = await recordAndClaim(results, o);
      claimedIds.push(...claimed.map((c) => c.id));
      return claimed;
    };
    return claimedIds;
  }

  async function publish(n: number): Promise<string> {
    const res = await h.api('POST', '/v1/events', { type: 'customer.created', data: { object: { n } } });
    expect(res.status).toBe(200);
    return res.body.id as string;
  }

  async function endpointFor(rx: Receiver): Promise<string> {
    const res = await h.api('POST', '/v1/webhook_endpoints', {
      url: `${rx.url}/hook`,
      enabled_events: ['*'],
    });
    expect(res.status).toBe(200);
    return res.body.id as string;
  }

  it('sends a fresh delivery without a claim, leased to this node until it is recorded', async () => {
    const claimedIds = await start();
    const rx = await startReceiver();
    receivers.push(rx);
    const endpointId = await endpointFor(rx);
    const eventId = await publish(1);
    const [req] = await rx.waitFor(1, 4000);
    expect(JSON.parse(req!.body.toString()).id).toBe(eventId);
    await expect
      .poll(async () => (await h.sb.store.getDelivery(eventId, endpointId))?.status, { timeout: 4000 })
      .toBe('delivered');
    const delivery = await h.sb.store.getDelivery(eventId, endpointId);
    expect(delivery).toMatchObject({ attempts: 1, status: 'delivered' });
    expect(claimedIds).not.toContain(delivery!.id);
  });

  it('past the per-endpoint slots, stores the rest unclaimed; a claim takes them, oldest first', async () => {
    const claimedIds = await start({ perEndpointConcurrency: 2 });
    const held: ServerResponse[] = [];
    const rx = await startReceiver((_req, res) => {
      held.push(res);
    });
    receivers.push(rx);
    const endpointId = await endpointFor(rx);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await publish(i));
      h.clock.advance(1);
    }
    // Two handed off and held by the receiver; three stored for a claim, which cannot take them while the
    // endpoint's two slots are busy.
    await rx.waitFor(2, 4000);
    const stored = await Promise.all(ids.map((id) => h.sb.store.getDelivery(id, endpointId)));
    expect(stored.map((d) => d!.nextAttemptAt! > d!.createdAt)).toEqual([true, true, false, false, false]);
    // Released, everything arrives; the three went through a claim, in publish order.
    rx.respond((_req, res) => {
      res.writeHead(200).end('{}');
    });
    for (const res of held.splice(0)) res.writeHead(200).end('{}');
    const all = await rx.waitFor(5, 4000);
    const order = all.map((r) => JSON.parse(r.body.toString()).id as string);
    expect(order.slice(0, 2).sort()).toEqual(ids.slice(0, 2).sort());
    expect(new Set(order)).toEqual(new Set(ids));
    expect(order.indexOf(ids[2]!)).toBeLessThan(order.indexOf(ids[4]!));
    const claimedEvents = await Promise.all(ids.map((id) => h.sb.store.getDelivery(id, endpointId)));
    expect(claimedEvents.map((d) => claimedIds.includes(d!.id))).toEqual([false, false, true, true, true]);
  });

  it('steady traffic to one endpoint does not put off claiming a retry come due at another', async () => {
    // Attempts to the busy endpoint finish every few ms, far more often than the 300 ms survey period.
    await start({ idlePollMs: 300 });
    const busy = await startReceiver();
    let refuse = true;
    const other = await startReceiver((_req, res) => {
      res.writeHead(refuse ? 503 : 200).end('{}');
    });
    receivers.push(busy, other);
    for (const [rx, type] of [
      [busy, 'customer.created'],
      [other, 'payout.paid'],
    ] as const) {
      const res = await h.api('POST', '/v1/webhook_endpoints', {
        url: `${rx.url}/hook`,
        enabled_events: [type],
      });
      expect(res.status).toBe(200);
    }
    const failing = await h.api('POST', '/v1/events', { type: 'payout.paid', data: { object: {} } });
    expect(failing.status).toBe(200);
    // The 503 is recorded (and the retry scheduled from the clock as it is now) before the clock moves.
    await expect
      .poll(async () => (await h.sb.store.listDeliveries(failing.body.id))[0]?.attempts, { timeout: 4000 })
      .toBe(1);
    refuse = false;
    // The retry is scheduled ahead; move the clock past it. Nothing tells the engine: only its periodic
    // survey finds it, while attempts to the busy endpoint keep finishing.
    h.clock.advance(24 * 3_600_000);
    let publishing = true;
    const traffic = (async () => {
      while (publishing) {
        await publish(0);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await other.waitFor(2, 3000);
    } finally {
      publishing = false;
      await traffic;
    }
    expect(busy.requests.length).toBeGreaterThan(0);
  });

  it('a stepped engine (not running) takes nothing from publishes', async () => {
    h = await startHarness(engine);
    const rx = await startReceiver();
    receivers.push(rx);
    const endpointId = await endpointFor(rx);
    const eventId = await publish(1);
    const d = await h.sb.store.getDelivery(eventId, endpointId);
    expect(d!.nextAttemptAt).toBe(d!.createdAt);
    expect(await h.sb.engine.runOnce()).toBe(1);
    expect(rx.requests).toHaveLength(1);
  });
});

describe('engine.intake', () => {
  it('bounds hand-offs by the slots, gives them back on cancel, and only while running', async () => {
    const { makeTestStore } = await import('./helpers/switchboard.js');
    const { createDeliveryEngine } = await import('../src/delivery/engine.js');
    const { createHttpTransport } = await import('../src/delivery/httpTransport.js');
    const ts = await makeTestStore('sqlite');
    const http = createHttpTransport({ timeoutMs: 1000, allowPrivateTargets: true });
    const e = createDeliveryEngine({
      store: ts.store,
      http,
      clock: () => 1_000,
      liveSchedule: [60_000],
      testSchedule: [60_000],
      leaseMs: 10_000,
      maxInFlight: 3,
      perEndpointConcurrency: 2,
      surveyEveryMs: 10_000,
    });
    const leased = (handOff: HandOff | null, ids: string[]) =>
      handOff === null ? null : ids.filter((id) => handOff.leaseFor(id) !== undefined);
    let failed = true;
    try {
      await ts.store.migrate();
      expect(e.intake.offer(['we_1'], 1_000)).toBeNull();
      e.start();
      const a = e.intake.offer(['we_1', 'we_1', 'we_2'], 1_000);
      expect(a!.leaseFor('we_1')).toEqual({ owner: e.owner, until: 11_000 });
      expect(leased(a, ['we_1', 'we_2', 'we_3'])).toEqual(['we_1', 'we_2']);
      const b = e.intake.offer(['we_1', 'we_2', 'we_3'], 1_000);
      // One slot left in all (3): we_1 takes its second; the node is then full.
      expect(leased(b, ['we_1', 'we_2', 'we_3'])).toEqual(['we_1']);
      // A publish that finds the node full stores its deliveries for a claim: the node is behind, and later
      // publishes are not handed off (they would overtake) until a claim has caught up.
      expect(e.intake.offer(['we_3'], 1_000)).toBeNull();
      a!.cancel();
      a!.cancel();
      expect(e.intake.offer(['we_3'], 1_000)).toBeNull();
      await e.runOnce();
      // a's two slots are free again; b still holds one of we_1's, and three in all is the bound.
      const c = e.intake.offer(['we_1', 'we_3', 'we_4'], 1_000);
      expect(leased(c, ['we_1', 'we_3', 'we_4'])).toEqual(['we_1', 'we_3']);
      // we_1 is at its bound (2): a publish for it is stored for a claim, and we_1 is behind until one ran.
      expect(e.intake.offer(['we_1'], 1_000)).toBeNull();
      b!.cancel();
      c!.cancel();
      expect(e.intake.offer(['we_1'], 1_000)).toBeNull();
      await e.runOnce();
      expect(leased(e.intake.offer(['we_1'], 1_000), ['we_1'])).toEqual(['we_1']);
      await e.stop();
      expect(e.intake.offer(['we_5'], 1_000)).toBeNull();
      failed = false;
    } finally {
      await http.close();
      await ts.cleanup(failed);
    }
  });
});
