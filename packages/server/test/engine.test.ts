/**
 * The delivery engine's loop, observed through its events: a test waits for
 * what the loop reports (a step, a write, a rest) instead of for time.
 */

import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepReport } from '../src/delivery/engine.js';
import { type Receiver, startReceiver } from './helpers/receiver.js';
import { ENGINES, type Harness, startHarness } from './helpers/switchboard.js';

describe.each(ENGINES)('delivery engine (%s)', (engine) => {
  let h: Harness;
  let rx: Receiver;
  let failed = false;
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await rx?.close();
    await h?.close(failed);
  });

  async function setUp(deliver: boolean): Promise<string> {
    h = await startHarness(engine, { deliver });
    rx = await startReceiver();
    const res = await h.api('POST', '/v1/webhook_endpoints', {
      url: `${rx.url}/hook`,
      enabled_events: ['*'],
    });
    expect(res.status).toBe(200);
    return res.body.id as string;
  }

  const publish = async () => {
    const res = await h.api('POST', '/v1/events', { type: 'customer.created', data: { object: {} } });
    expect(res.status).toBe(200);
    return res.body.id as string;
  };

  it('running: once it reports a write, the delivery is recorded; then it rests', async () => {
    const endpointId = await setUp(true);
    const events = h.sb.engine.events;
    const recorded = once(events, 'recorded');
    // The rest that follows the write (the loop may have rested before the publish too).
    const restedAfterWrite = recorded.then(() => once(events, 'idle'));
    const eventId = await publish();
    expect(await recorded).toEqual([1]);
    expect(await h.sb.store.getDelivery(eventId, endpointId)).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    await restedAfterWrite;
    expect(h.sb.engine.inFlight).toBe(0);
  });

  it('runOnce is one step of the loop: it reports the step, with what it claimed', async () => {
    await setUp(false);
    await publish();
    await publish();
    const steps: StepReport[] = [];
    h.sb.engine.events.on('step', (s) => steps.push(s));
    expect(await h.sb.engine.runOnce()).toBe(2);
    expect(steps).toEqual([{ claimed: 2, recorded: 0 }]);
    expect(rx.requests).toHaveLength(2);
    expect(await h.sb.engine.runOnce()).toBe(0);
  });
});
