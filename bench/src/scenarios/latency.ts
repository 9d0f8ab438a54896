/**
 * Scenario 2, latency: publish at a fixed rate (open loop) to one endpoint
 * and measure, per event, the time from the publish being accepted (its
 * answer received by the publisher: from then on the event is durable) to
 * the receiver getting the delivery.
 *
 * Clocks: the publisher (this process) and the receiver (its own process)
 * each timestamp with the machine's monotonic clock (clock.ts), so both read
 * the same clock with sub-millisecond resolution. The offset between the two is checked over IPC at the start
 * (smallest-round-trip sample) and reported with the result.
 */

import { ApiClient } from '../api.js';
import { directLatency } from '../baselines.js';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { type OpenLoopResult, openLoop } from '../load.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { type Engine, ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { type Distribution, dist, distribution, fixed, int, ms } from '../stats.js';

export const LATENCY_TARGET_P99_MS: Record<Engine, number> = { sqlite: 50, postgres: 100 };

export interface LatencyMeasurement {
  delivery: Distribution;
  publish: Distribution;
  loop: OpenLoopResult;
  /** Deliveries that arrived before their publish answer did (the answer and the delivery race). */
  early: number;
  clock: { offsetMs: number; rttMs: number };
  warmupSeconds: number;
}

/**
 * Publish `bodyFor(i)` at `rate`/s for `seconds` and match each recorded
 * arrival at `sink` with its publish. `expectedPerEvent` deliveries of each
 * event reach `sink`.
 */
export async function measureDeliveryLatency(
  ctx: Context,
  api: ApiClient,
  sink: Sink,
  rate: number,
  seconds: number,
  bodyFor: (i: number) => string,
  expectedPerEvent = 1,
): Promise<LatencyMeasurement> {
  // Warm-up: a fresh server runs its code cold (interpreted, then compiled as it gets hot) and is several
  // times slower per request for its first thousand or so; measure the server as it runs, not as it starts.
  const warmup = ctx.knob('BENCH_WARMUP_SECONDS');
  if (warmup > 0) {
    await sink.reset();
    const w = await openLoop({
      rate,
      seconds: warmup,
      maxInFlight: 512,
      request: async (i) => {
        const r = await api.publish(bodyFor(i));
        return r.ok ? true : (r.error ?? 'publish failed');
      },
    });
    await sink.waitFor(w.ok * expectedPerEvent, ctx.knob('BENCH_STALL_SECONDS') * 1000);
  }
  const clock = await sink.clockCheck();
  await sink.reset();
  await sink.record(true);
  const accepted = new Map<string, number>();
  const publishTimes: number[] = [];
  const loop = await openLoop({
    rate,
    seconds,
    maxInFlight: 512,
    request: async (i) => {
      const t0 = now();
      const r = await api.publish(bodyFor(i));
      if (!r.ok || r.id === null) return r.error ?? 'no id in the answer';
      accepted.set(r.id, r.acceptedAt);
      publishTimes.push(r.acceptedAt - t0);
      return true;
    },
  });
  await sink.waitFor(loop.ok * expectedPerEvent, ctx.knob('BENCH_STALL_SECONDS') * 1000);
  const arrivals = await sink.arrivals();
  const latencies: number[] = [];
  let early = 0;
  arrivals.ids.forEach((id, i) => {
    const t = accepted.get(id);
    if (t === undefined) return;
    const latency = arrivals.times[i]! - t;
    if (latency < 0) early++;
    latencies.push(latency);
  });
  return {
    delivery: distribution(latencies),
    publish: distribution(publishTimes),
    loop,
    early,
    clock,
    warmupSeconds: warmup,
  };
}

export function latencyNotes(m: LatencyMeasurement, rate: number, seconds: number): string[] {
  const notes = [
    `${int(m.delivery.count)} deliveries, ${rate} events/s for ${seconds} s after a warm-up of ${m.warmupSeconds} s`,
    `publish answer p50/p99 ${ms(m.publish.p50)}/${ms(m.publish.p99)} ms`,
    `clock offset ${fixed(m.clock.offsetMs * 1000, 0)} µs (IPC round trip ${fixed(m.clock.rttMs * 1000, 0)} µs)`,
  ];
  if (m.early) notes.push(`${m.early} arrived before their publish answer (negative latency)`);
  if (m.loop.maxLagMs > 50) notes.push(`publisher fell up to ${ms(m.loop.maxLagMs)} ms behind schedule`);
  if (m.loop.failed) notes.push(`${m.loop.failed} publishes failed, e.g. ${m.loop.failures[0]}`);
  return notes;
}

export async function latency(ctx: Context, engine: Engine): Promise<Row> {
  const rate = ctx.knob('BENCH_LATENCY_RATE');
  const seconds = ctx.knob('BENCH_LATENCY_SECONDS');
  ctx.log(`[${engine}] latency: ${rate} events/s for ${seconds} s`);
  const sink = await Sink.start('ok');
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  let m: LatencyMeasurement;
  let serverErrors: string | null = null;
  try {
    const [port] = await sink.listen(1);
    server = await ServerProcess.start({ engine, pgUrl: ctx.options.pgUrl });
    api = new ApiClient(server.url, TEST_KEY, 64);
    await api.createEndpoint(`http://127.0.0.1:${port}/ep0`);
    const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
    m = await measureDeliveryLatency(ctx, api, sink, rate, seconds, () => body);
  } finally {
    await api?.close();
    await server?.stop();
    serverErrors = server?.errorNote() ?? null;
    await sink.stop();
  }
  ctx.latencyP99.set(engine, m.delivery.p99);
  const base = await directLatency(ctx, rate, seconds);
  const target = LATENCY_TARGET_P99_MS[engine];
  return row({
    scenario: 'latency, 1 endpoint',
    engine,
    measure: 'publish accepted → delivery received, p50 / p99 / max ms',
    value: dist(m.delivery),
    baseline: `${dist(base)} (direct signed POST, send → received)`,
    ratio: `${fixed(m.delivery.p99 / base.p99, 1)}× p99`,
    target: `p99 < ${target} ms`,
    met: m.delivery.p99 < target,
    notes: [...latencyNotes(m, rate, seconds), ...(serverErrors ? [serverErrors] : [])].join('; '),
  });
}
