/**
 * Scenario 4, isolation: ten endpoints, one of which accepts connections and
 * never answers. Every event goes to the dead endpoint and to one of the nine
 * healthy ones (each healthy endpoint subscribes to its own event type), so
 * the healthy side receives the same delivery rate as in the latency
 * scenario while the dead endpoint is offered all of it. The healthy
 * endpoints' latency should stay within 2× of the latency scenario's p99.
 */

import { ApiClient } from '../api.js';
import type { Context } from '../context.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { type Engine, ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { dist, fixed, int, ms } from '../stats.js';
import { type LatencyMeasurement, latencyNotes, measureDeliveryLatency } from './latency.js';

/** One event type per healthy endpoint, so each gets its own share: Stripe's types, as enabled_events must be. */
const SHARD_TYPES = [
  'customer.created',
  'customer.updated',
  'charge.succeeded',
  'charge.refunded',
  'payout.paid',
  'payout.failed',
  'invoice.paid',
  'invoice.created',
  'product.created',
  'price.created',
] as const;

export const ISOLATION_FACTOR = 2;
const HEALTHY = 9;

export async function isolation(ctx: Context, engine: Engine): Promise<Row> {
  const rate = ctx.knob('BENCH_ISOLATION_RATE');
  const seconds = ctx.knob('BENCH_ISOLATION_SECONDS');
  ctx.log(`[${engine}] isolation: ${rate} events/s for ${seconds} s, 1 dead endpoint + ${HEALTHY} healthy`);
  const healthy = await Sink.start('ok');
  const dead = await Sink.start('hang');
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  let m: LatencyMeasurement;
  let held = 0;
  let serverErrors: string | null = null;
  try {
    const ports = await healthy.listen(HEALTHY);
    const [deadPort] = await dead.listen(1);
    server = await ServerProcess.start({ engine, pgUrl: ctx.options.pgUrl });
    api = new ApiClient(server.url, TEST_KEY, 64);
    await api.createEndpoint(`http://127.0.0.1:${deadPort}/dead`, ['*']);
    for (let i = 0; i < HEALTHY; i++)
      await api.createEndpoint(`http://127.0.0.1:${ports[i]}/ep${i}`, [SHARD_TYPES[i]!]);
    const object = sizedObject(ctx.knob('BENCH_EVENT_BYTES'));
    const bodies = Array.from({ length: HEALTHY }, (_, i) => publishBody(SHARD_TYPES[i]!, object));
    m = await measureDeliveryLatency(ctx, api, healthy, rate, seconds, (i) => bodies[i % HEALTHY]!);
    held = (await dead.stats()).count;
  } finally {
    await api?.close();
    // The dead receiver goes first: its connections then fail at once instead of holding the server's shutdown until they time out.
    await dead.stop();
    await server?.stop();
    serverErrors = server?.errorNote() ?? null;
    await healthy.stop();
  }
  const reference = ctx.latencyP99.get(engine);
  const ratio = reference === undefined ? Number.NaN : m.delivery.p99 / reference;
  return row({
    scenario: `isolation, ${HEALTHY} healthy + 1 dead endpoint`,
    engine,
    measure: 'healthy endpoints: publish accepted → received, p50 / p99 / max ms',
    value: dist(m.delivery),
    baseline:
      reference === undefined ? 'n/a (latency scenario missing)' : `p99 ${ms(reference)} (latency scenario)`,
    ratio: `${fixed(ratio, 2)}× p99`,
    target: `p99 ≤ ${ISOLATION_FACTOR}× latency p99`,
    met: Number.isFinite(ratio) ? ratio <= ISOLATION_FACTOR : null,
    notes: [
      ...latencyNotes(m, rate, seconds),
      `dead endpoint holding ${int(held)} requests`,
      ...(serverErrors ? [serverErrors] : []),
    ].join('; '),
  });
}
