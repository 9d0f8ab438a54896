/**
 * One slow or dead endpoint must not delay the others: the delivery engine bounds
 * what it has in flight per endpoint, and several nodes on one PostgreSQL
 * database each take a delivery exactly once.
 */

import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { createSwitchboard, type Switchboard, type SwitchboardConfig } from '../src/server.js';
import type { Store } from '../src/store/types.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { type Harness, LIVE_KEY, makeTestStore, startHarness, TEST_KEY } from './helpers/switchboard.js';

describe('isolation', () => {
  let h: Harness;
  const receivers: Receiver[] = [];
  let failed = false;
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    for (const r of receivers.splice(0)) await r.close();
    await h?.close(failed);
  });

  it('a hanging endpoint holds at most its per-endpoint slots while a healthy one gets everything', async () => {
    onTestFailed(() => {
      failed = true;
    });
    h = await startHarness('sqlite', {
      deliver: true,
      clock: Date.now,
      deliveryTimeoutMs: 5000,
      perEndpointConcurrency: 2,
      maxInFlight: 8,
      idlePollMs: 50,
    });
    const hanging = await startReceiver(() => {
      /* never answers */
    });
    const healthy = await startReceiver();
    receivers.push(hanging, healthy);
    for (const rx of [hanging, healthy]) {
      const res = await h.api('POST', '/v1/webhook_endpoints', {
        url: `${rx.url}/hook`,
        enabled_events: ['*'],
      });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < 30; i++) {
      expect(
        (await h.api('POST', '/v1/events', { type: 'customer.created', data: { object: { n: i } } })).status,
      ).toBe(200);
    }
    await healthy.waitFor(30, 4000);
    // Every healthy delivery went through while the hanging endpoint held only its two slots.
    expect(hanging.requests.length).toBeLessThanOrEqual(2);
  });

  it('an endpoint gets all its per-endpoint slots at once: no attempt waits for a connection with its clock running', async () => {
    onTestFailed(() => {
      failed = true;
    });
    // More slots than any fixed connection pool per origin would give (an attempt's timeout starts before the
    // send: one queued behind busy connections would spend its time waiting and be logged as a timeout).
    const slots = 24;
    h = await startHarness('sqlite', {
      deliver: true,
      clock: Date.now,
      deliveryTimeoutMs: 10_000,
      perEndpointConcurrency: slots,
      idlePollMs: 50,
    });
    const hanging = await startReceiver(() => {
      /* never answers */
    });
    receivers.push(hanging);
    expect(
      (await h.api('POST', '/v1/webhook_endpoints', { url: `${hanging.url}/hook`, enabled_events: ['*'] }))
        .status,
    ).toBe(200);
    for (let i = 0; i < slots + 10; i++) {
      expect(
        (await h.api('POST', '/v1/events', { type: 'customer.created', data: { object: { n: i } } })).status,
      ).toBe(200);
    }
    await hanging.waitFor(slots, 4000);
    expect(hanging.requests.length).toBe(slots);
  });
});

describe('two nodes on one PostgreSQL database', () => {
  const common = { testKey: TEST_KEY, liveKey: LIVE_KEY, allowPrivateTargets: true };
  const headers = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };

  /** Two servers on one schema (each with its own pool) and a receiver endpoint; the schema is kept on failure. */
  async function withTwoNodes(
    configs: [Partial<SwitchboardConfig>, Partial<SwitchboardConfig>],
    body: (nodes: Switchboard[], rx: Receiver, store: Store) => Promise<void>,
  ): Promise<void> {
    const a = await makeTestStore('postgres');
    const { createPostgresStore } = await import('../src/store/postgres/index.js');
    const { PG_URL } = await import('./helpers/switchboard.js');
    const schema = /schema (\S+)/.exec(a.describe)![1]!;
    const bStore = createPostgresStore({ connectionString: PG_URL, schema });
    const rx = await startReceiver();
    const nodes: Switchboard[] = [];
    let failed = false;
    try {
      nodes.push(await createSwitchboard({ ...common, ...configs[0], store: a.store }));
      nodes.push(await createSwitchboard({ ...common, ...configs[1], store: bStore }));
      expect(nodes[1]!.platform.id).toBe(nodes[0]!.platform.id);
      const ep = await nodes[0]!.app.request('/v1/webhook_endpoints', {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: `${rx.url}/hook`, enabled_events: ['*'] }),
      });
      expect(ep.status).toBe(200);
      await body(nodes, rx, a.store);
    } catch (error) {
      failed = true; // keep the schema for a look
      throw error;
    } finally {
      for (const n of nodes) await n.close();
      await rx.close();
      await bStore.close();
      await a.cleanup(failed);
    }
  }

  async function publish(node: Switchboard, n: number): Promise<string> {
    const res = await node.app.request('/v1/events', {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'customer.created', data: { object: { n } } }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id;
  }

  it('deliver every event exactly once between them', async () => {
    await withTwoNodes([{ idlePollMs: 20 }, { idlePollMs: 20 }], async (nodes, rx, store) => {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push(await publish(nodes[i % 2]!, i));
      await rx.waitFor(200, 20_000);
      const got = rx.requests.map((r) => JSON.parse(r.body.toString()).id as string);
      expect(new Set(got).size).toBe(200);
      expect(got).toHaveLength(200);
      expect(new Set(got)).toEqual(new Set(ids));
      for (const id of ids.slice(0, 50)) {
        expect((await store.listAttempts({ eventId: id, limit: 10 })).data).toHaveLength(1);
      }
    });
  });

  it("an idle node is woken by another node's publish (LISTEN/NOTIFY), not by its survey", async () => {
    // A takes publishes but delivers nothing: what it stores waits for a claim. B surveys once at its start,
    // then not for ten minutes: only a notification can bring it the event in time.
    await withTwoNodes([{ deliver: false }, { idlePollMs: 600_000 }], async (nodes, rx) => {
      const id = await publish(nodes[0]!, 1);
      const [req] = await rx.waitFor(1, 20_000);
      expect(JSON.parse(req!.body.toString()).id).toBe(id);
    });
  });
});
