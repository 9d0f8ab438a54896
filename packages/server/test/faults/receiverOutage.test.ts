/**
 * A receiver outage: first 503 with Retry-After, then connections refused,
 * then recovery. Every event arrives, every attempt is logged with its error,
 * and the schedule (lengthened by Retry-After) is respected. Time is stepped.
 */

import { createServer } from 'node:http';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { ENGINES, type Harness, startHarness } from '../helpers/switchboard.js';

const SCHEDULE = [60_000, 120_000, 300_000, 600_000];

describe.each(ENGINES)('receiver outage (%s)', (engine) => {
  let h: Harness;
  let rx: Receiver | null = null;
  let failed = false;
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await rx?.close();
    await h?.close(failed);
  });

  it('retries through 503 + Retry-After and refused connections, then delivers everything', async () => {
    onTestFailed(() => {
      failed = true;
    });
    h = await startHarness(engine, { retrySchedule: SCHEDULE });
    rx = await startReceiver((_req, res) => {
      res.writeHead(503, { 'retry-after': '240' });
      res.end('maintenance');
    });
    const port = rx.port;
    const ep = await h.api('POST', '/v1/webhook_endpoints', { url: `${rx.url}/hook`, enabled_events: ['*'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await h.api('POST', '/v1/events', { type: 'invoice.paid', data: { object: { n: i } } })).body.id,
      );
    }
    const t0 = h.clock();
    expect(await h.sb.engine.runOnce()).toBe(5);
    // Retry-After (240 s) is longer than the first delay (60 s): it wins.
    expect(await h.sb.store.nextDueAt()).toBe(t0 + 240_000);

    // The receiver goes away entirely: connections are refused.
    await rx.close();
    rx = null;
    h.clock.set(t0 + 240_000);
    expect(await h.sb.engine.runOnce()).toBe(5);
    expect(await h.sb.store.nextDueAt()).toBe(t0 + 240_000 + SCHEDULE[1]!);

    // Nothing is due before the schedule says so.
    h.clock.set(t0 + 240_000 + SCHEDULE[1]! - 1);
    expect(await h.sb.engine.runOnce()).toBe(0);

    // It comes back on the same port.
    const back = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => back.listen(port, '127.0.0.1', resolve));
    try {
      h.clock.set(t0 + 240_000 + SCHEDULE[1]!);
      expect(await h.sb.engine.runOnce()).toBe(5);
    } finally {
      await new Promise<void>((resolve) => back.close(() => resolve()));
    }

    for (const id of ids) {
      const event = (await h.api('GET', `/v1/events/${id}`)).body;
      expect(event.pending_webhooks).toBe(0);
      const log = (await h.api('GET', `/v1/events/${id}/delivery_attempts`)).body.data;
      expect(log.map((a: { status_code: number | null }) => a.status_code)).toEqual([200, null, 503]);
      expect(log[2].error).toBe('http_503');
      expect(log[2].response_body).toBe('maintenance');
      // A pooled keep-alive socket may see the close first (reset); a new connection is refused.
      expect(log[1].error).toMatch(/connection_(refused|reset)/);
      expect(log[1].attempted_at_ms - log[2].attempted_at_ms).toBe(240_000);
      expect(log[0].attempted_at_ms - log[1].attempted_at_ms).toBe(SCHEDULE[1]);
    }
    expect((await h.api('GET', `/v1/webhook_endpoints/${ep.body.id}`)).body.status).toBe('enabled');
  });
});
