/**
 * Pickup by another node (PostgreSQL): two servers share one database; the
 * one the publisher talks to runs with `--no-deliver`, so every delivery is
 * made by the other, which learns of new work from a notification
 * (LISTEN/NOTIFY) rather than its once-a-second survey. Measured per event,
 * as in the latency scenario: publish accepted on the API node → delivery
 * received from the delivering node.
 */

import { ApiClient } from '../api.js';
import type { Context } from '../context.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { dist, fixed } from '../stats.js';
import { type LatencyMeasurement, latencyNotes, measureDeliveryLatency } from './latency.js';

export const PICKUP_TARGET_P99_MS = 50;

export async function pickup(ctx: Context): Promise<Row> {
  const rate = ctx.knob('BENCH_LATENCY_RATE');
  const seconds = ctx.knob('BENCH_LATENCY_SECONDS');
  ctx.log(`[postgres] pickup by another node: ${rate} events/s for ${seconds} s`);
  const sink = await Sink.start('ok');
  let delivering: ServerProcess | null = null;
  let apiNode: ServerProcess | null = null;
  let api: ApiClient | null = null;
  let m: LatencyMeasurement;
  const errors: string[] = [];
  try {
    const [port] = await sink.listen(1);
    delivering = await ServerProcess.start({ engine: 'postgres', pgUrl: ctx.options.pgUrl });
    apiNode = await ServerProcess.start({
      engine: 'postgres',
      pgUrl: ctx.options.pgUrl,
      databaseUrl: delivering.databaseUrl,
      extraArgs: ['--no-deliver'],
    });
    api = new ApiClient(apiNode.url, TEST_KEY, 64);
    await api.createEndpoint(`http://127.0.0.1:${port}/ep0`);
    const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
    m = await measureDeliveryLatency(ctx, api, sink, rate, seconds, () => body);
  } finally {
    await api?.close();
    // The API node first: the delivering node owns the database and drops it.
    await apiNode?.stop();
    await delivering?.stop();
    for (const s of [apiNode, delivering]) {
      const note = s?.errorNote();
      if (note) errors.push(note);
    }
    await sink.stop();
  }
  const sameNode = ctx.latencyP99.get('postgres');
  return row({
    scenario: 'pickup by another node',
    engine: 'postgres',
    measure: 'publish accepted on an API node → delivery received from another node, p50 / p99 / max ms',
    value: dist(m.delivery),
    baseline:
      sameNode === undefined
        ? '—'
        : `${fixed(sameNode, 1)} ms p99 (latency scenario: one node publishes and delivers)`,
    ratio: sameNode === undefined ? '—' : `${fixed(m.delivery.p99 / sameNode, 1)}× p99`,
    target: `p99 ≤ ${PICKUP_TARGET_P99_MS} ms`,
    met: m.delivery.p99 <= PICKUP_TARGET_P99_MS,
    notes: [...latencyNotes(m, rate, seconds), ...errors].join('; '),
  });
}
