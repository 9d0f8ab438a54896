/**
 * Scenario 3, backlog: the receiver is down (its port refuses connections)
 * while N events are published; the server's resident memory is sampled
 * throughout. Then the receiver comes back and the drain rate is measured:
 * every event received once, from the moment the receiver listens again.
 *
 * Retry schedule: `1s` repeated BENCH_BACKLOG_RETRY_ENTRIES times. A failed
 * attempt is then due again about a second later (±20 % jitter), so when the
 * receiver returns the whole backlog is due within ~1.2 s and the drain
 * measures how fast the server works through it rather than how its
 * schedule spreads it out (the default first retry, 1–5 min, would). The
 * entries must outlast the outage: a delivery that exhausts its schedule is
 * given up and its endpoint disabled. 3600 entries cover an outage of at
 * least 48 min (3600 × 0.8 s). While the receiver is down each delivery is
 * retried at most once a second, and the engine's bounded concurrency
 * keeps it far below that: what the server does during an outage, not an
 * artefact of the benchmark.
 */

import { ApiClient, publishAll } from '../api.js';
import { directThroughput } from '../baselines.js';
import { now, sleep } from '../clock.js';
import type { Context } from '../context.js';
import { publishBody, sizedObject } from '../payloads.js';
import { type Row, row } from '../results.js';
import { type Engine, ServerProcess, TEST_KEY } from '../server.js';
import { Sink } from '../sink.js';
import { fixed, int, mb } from '../stats.js';

export const RSS_TARGET_MB = 300;

export async function backlog(ctx: Context, engine: Engine): Promise<Row[]> {
  const events = ctx.knob('BENCH_BACKLOG_EVENTS');
  const entries = ctx.knob('BENCH_BACKLOG_RETRY_ENTRIES');
  const concurrency = ctx.knob('BENCH_PUBLISH_CONCURRENCY');
  const stallMs = ctx.knob('BENCH_STALL_SECONDS') * 1000;
  ctx.log(`[${engine}] backlog: ${int(events)} events with the receiver down`);
  const sink = await Sink.start('ok');
  let server: ServerProcess | null = null;
  let api: ApiClient | null = null;
  let sampler: NodeJS.Timeout | null = null;
  try {
    // Take a port, then stop listening on it: the endpoint points at a receiver that is down.
    const [port] = await sink.listen(1);
    await sink.close();
    server = await ServerProcess.start({
      engine,
      pgUrl: ctx.options.pgUrl,
      retrySchedule: Array.from({ length: entries }, () => '1s').join(','),
    });
    const srv = server;
    api = new ApiClient(server.url, TEST_KEY, concurrency);
    const endpoint = await api.createEndpoint(`http://127.0.0.1:${port}/backlog`);
    const idle = server.memory();

    // Sampled every 500 ms for the phase maxima; VmHWM gives the true peak between samples.
    let phase: 'publish' | 'drain' = 'publish';
    const peak = { publish: 0, drain: 0 };
    sampler = setInterval(() => {
      const rss = srv.memory().rssKb;
      if (rss > peak[phase]) peak[phase] = rss;
    }, 500);

    const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
    const progress = { published: 0 };
    const stopProgress = ctx.progress(
      () => `${int(progress.published)} of ${int(events)} published, server RSS ${mb(srv.memory().rssKb)}`,
    );
    const { loop } = await publishAll(api, body, concurrency, events, progress).finally(stopProgress);
    const publishRate = (loop.ok / (loop.endedAt - loop.startedAt)) * 1000;
    const afterPublish = server.memory();

    phase = 'drain';
    await sink.reset();
    await sink.record(false, true);
    const upAt = await sink.relisten();
    const stopDrain = ctx.progress(() => `draining, server RSS ${mb(srv.memory().rssKb)}`);
    const deadline = upAt + ctx.knob('BENCH_MAX_WAIT_SECONDS') * 1000;
    const drained = await sink.waitFor(loop.ok, stallMs, true, deadline).finally(stopDrain);
    const drainMs = drained.lastAt - upAt;
    // Unique events: a redelivered event is not progress through the backlog.
    const drainRate = (drained.unique / drainMs) * 1000;
    const complete = drained.unique >= loop.ok;
    // Whatever was in flight settles; what remains resident is what the server keeps.
    await sleep(ctx.options.quick ? 1000 : 5000);
    clearInterval(sampler);
    sampler = null;
    const settled = server.memory();
    const final = await sink.stats();
    const status = await api.endpointStatus(endpoint.id);
    const stopAt = now();
    await api.close();
    api = null;
    await server.stop();
    const serverErrors = server.errorNote();
    server = null;
    ctx.log(`  server stopped in ${fixed((now() - stopAt) / 1000)} s`);
    await sink.stop();

    const peakKb = Math.max(settled.hwmKb, peak.publish, peak.drain);
    const base = await directThroughput(ctx, 1, ctx.knob('BENCH_THROUGHPUT_EVENTS'));
    const duplicates = final.count - final.unique;
    const notes = [
      `${int(loop.ok)} events published at ${int(publishRate)}/s with the receiver down`,
      `RSS at start ${mb(idle.rssKb)}, max while publishing ${mb(peak.publish)}, after publishing ${mb(afterPublish.rssKb)}, max while draining ${mb(peak.drain)}, after draining ${mb(settled.rssKb)}`,
    ];
    if (loop.failed) notes.push(`${loop.failed} publishes failed, e.g. ${loop.failures[0]}`);
    if (serverErrors) notes.push(serverErrors);
    return [
      row({
        scenario: 'backlog, receiver down',
        engine,
        measure: 'server peak RSS (VmHWM)',
        value: mb(peakKb),
        baseline: `${mb(idle.rssKb)} (same server idle after start)`,
        ratio: fixed(peakKb / idle.rssKb, 1),
        target: `< ${RSS_TARGET_MB} MB`,
        met: peakKb / 1024 < RSS_TARGET_MB,
        notes: notes.join('; '),
      }),
      row({
        scenario: 'backlog, drain',
        engine,
        measure: 'deliveries/s, receiver back → backlog received',
        value: int(drainRate),
        baseline: `${int(base.rate)} (direct signed POSTs, ${base.inFlight} in flight)`,
        ratio: fixed(drainRate / base.rate, 2),
        target: 'every event delivered, endpoint enabled',
        met: complete && status === 'enabled',
        notes: [
          complete
            ? `${int(loop.ok)} events drained in ${fixed(drainMs / 1000)} s`
            : `only ${int(drained.unique)} of ${int(loop.ok)} events received within BENCH_MAX_WAIT_SECONDS (${fixed(drainMs / 1000)} s)`,
          `${int(duplicates)} duplicate deliveries`,
          `endpoint ${status}`,
        ].join('; '),
      }),
    ];
  } finally {
    if (sampler) clearInterval(sampler);
    await api?.close();
    await server?.stop();
    await sink.stop();
  }
}
