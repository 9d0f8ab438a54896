/**
 * Scenario 1, throughput: publish N events as fast as the API takes them
 * (many POST /v1/events in flight) to one endpoint, or to several (fan-out:
 * every event goes to each), and time the whole pipeline end to end: from
 * the first publish accepted to the last delivery received. Compared with
 * the same number of direct signed POSTs to the same receiver.
 */

import { ApiClient, publishAll } from '../api.js';
import { directThroughput, relayThroughput } from '../baselines.js';
import type { Context } from '../context.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { type Engine, ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { fixed, int, mb } from '../stats.js';

export const THROUGHPUT_TARGET = 0.7;
/** One endpoint, durable SQLite, against the bare relay of the same run. */
export const RELAY_TARGET = 0.5;
/** Server CPU (user + system, all threads) per delivery, in µs. */
export const CPU_PER_DELIVERY_TARGET_US = 150;

export interface ThroughputRun {
  row: Row;
  deliveries: number;
  profilePath: string | null;
}

export async function throughput(
  ctx: Context,
  engine: Engine,
  endpoints: number,
  events: number,
  options: { cpuProfDir?: string; sqliteThread?: 'worker' | 'main' } = {},
): Promise<ThroughputRun> {
  const concurrency = ctx.knob('BENCH_PUBLISH_CONCURRENCY');
  const label = endpoints === 1 ? '1 endpoint' : `${endpoints} endpoints (fan-out)`;
  ctx.log(`[${engine}] throughput, ${label}: ${int(events)} events${options.cpuProfDir ? ', profiled' : ''}`);
  const sink = await Sink.start('ok');
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  try {
    // One port per endpoint: distinct origins, as distinct receivers would be (the server pools connections per origin).
    const ports = await sink.listen(endpoints);
    server = await ServerProcess.start({
      engine,
      pgUrl: ctx.options.pgUrl,
      ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
      ...(options.sqliteThread ? { sqliteThread: options.sqliteThread } : {}),
    });
    api = new ApiClient(server.url, TEST_KEY, concurrency);
    for (let i = 0; i < endpoints; i++) await api.createEndpoint(`http://127.0.0.1:${ports[i]}/ep${i}`);
    const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
    const cpuBefore = server.cpuMs();
    const progress = { published: 0 };
    const stopProgress = ctx.progress(() => `${int(progress.published)} of ${int(events)} published`);
    const { loop, firstAccepted } = await publishAll(api, body, concurrency, events, progress).finally(
      stopProgress,
    );
    const deliveries = loop.ok * endpoints;
    const stopWait = ctx.progress(() => `waiting for ${int(deliveries)} deliveries`);
    const deadline = loop.endedAt + ctx.knob('BENCH_MAX_WAIT_SECONDS') * 1000;
    const s = await sink
      .waitFor(deliveries, ctx.knob('BENCH_STALL_SECONDS') * 1000, false, deadline)
      .finally(stopWait);
    const elapsedMs = s.lastAt - firstAccepted;
    const received = Math.min(s.count, deliveries);
    const complete = received >= deliveries;
    const rate = (received / elapsedMs) * 1000;
    const publishRate = (loop.ok / (loop.endedAt - loop.startedAt)) * 1000;
    const memory = server.memory();
    const cpuPerDeliveryUs = ((server.cpuMs() - cpuBefore) * 1000) / Math.max(1, received);
    await api.close();
    api = null;
    await server.stop();
    const profilePath = server.profilePath;
    const serverErrors = server.errorNote();
    server = null;
    await sink.stop();

    const base = await directThroughput(ctx, endpoints, deliveries);
    // One endpoint is judged against the bare relay (the same hops without storage), fan-out against direct POSTs.
    const relay = endpoints === 1 ? await relayThroughput(ctx, deliveries) : null;
    const ratio = rate / (relay ?? base).rate;
    const profiled = options.cpuProfDir !== undefined;
    const onMainThread = options.sqliteThread === 'main';
    const target = engine === 'sqlite' && !profiled && !onMainThread;
    const targetRatio = relay ? RELAY_TARGET : THROUGHPUT_TARGET;
    const notes = [
      complete
        ? `${int(deliveries)} deliveries in ${fixed(elapsedMs / 1000)} s`
        : `only ${int(received)} of ${int(deliveries)} deliveries within BENCH_MAX_WAIT_SECONDS (${fixed(elapsedMs / 1000)} s)`,
      `publishing ${int(publishRate)} events/s with ${concurrency} in flight`,
      `server peak RSS ${mb(memory.hwmKb)}`,
      `server CPU ${int(cpuPerDeliveryUs)} µs per delivery (every thread, target ≤ ${CPU_PER_DELIVERY_TARGET_US}${relay ? `; the bare relay ${int(relay.cpuPerDeliveryUs)} µs` : ''})`,
      `baseline ${int(deliveries)} POSTs in ${fixed(base.elapsedMs / 1000)} s`,
    ];
    if (loop.failed) notes.push(`${loop.failed} publishes failed, e.g. ${loop.failures[0]}`);
    if (serverErrors) notes.push(serverErrors);
    if (!ctx.options.quick && elapsedMs < 20_000)
      notes.push(
        `under 20 s of work: raise ${endpoints === 1 ? 'BENCH_THROUGHPUT_EVENTS' : 'BENCH_FANOUT_EVENTS'}`,
      );
    if (profiled) notes.push('server under --cpu-prof (slower; not compared with the target)');
    if (onMainThread)
      notes.push(
        'SQLite connection on the server thread (`?thread=main`): the comparison for the writer thread',
      );
    return {
      deliveries: received,
      profilePath,
      row: row({
        scenario: `throughput, ${label}${profiled ? ', profiled' : ''}${onMainThread ? ', SQLite on the server thread' : ''}`,
        engine,
        measure: 'deliveries/s, first publish accepted → last delivery received',
        value: int(rate),
        baseline: relay
          ? `${int(relay.rate)} (bare relay: same hops, no storage); ${int(base.rate)} direct signed POSTs (${fixed(rate / base.rate, 2)})`
          : `${int(base.rate)} (direct signed POSTs, ${base.inFlight} in flight)`,
        ratio: fixed(ratio, 2),
        target: target ? `≥ ${targetRatio}${relay ? ' of the relay' : ''}` : '—',
        met: target ? complete && ratio >= targetRatio : null,
        notes: notes.join('; '),
      }),
    };
  } finally {
    await api?.close();
    await server?.stop();
    await sink.stop();
  }
}
