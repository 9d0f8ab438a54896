/**
 * What delivery costs without Switchboard: the same signed payloads POSTed
 * by this process straight to the same receiver, with no storage, no
 * routing and no retries. The throughput and latency scenarios report
 * themselves against these.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { buildSignatureHeader } from '@switchboard/webhooks';
import { Pool } from 'undici';
import { ApiClient, publishAll } from './api.js';
import { now } from './clock.js';
import type { Context } from './context.js';
import { closedLoop, openLoop } from './load.js';
import { DELIVERY_HEADERS, eventEnvelope, publishBody, sizedObject } from './payloads.js';
import { cpuTimeOf } from './server.js';
import { Sink } from './sink.js';
import { type Distribution, distribution } from './stats.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/**
 * One delivery as the delivery engine makes it: sign with the current time (and,
 * as for test-mode events, an extra meaningless `v0`), POST, read the answer.
 */
async function deliver(pool: Pool, path: string, body: string): Promise<true | string> {
  const signature = buildSignatureHeader({
    payload: body,
    secrets: [SECRET],
    timestamp: Math.floor(Date.now() / 1000),
    extraSchemes: { v0: randomBytes(32).toString('hex') },
  });
  const res = await pool.request({
    method: 'POST',
    path,
    headers: { ...DELIVERY_HEADERS, 'stripe-signature': signature },
    body,
  });
  await res.body.text();
  return res.statusCode >= 200 && res.statusCode < 300 ? true : `HTTP ${res.statusCode}`;
}

export interface DirectThroughput {
  rate: number;
  elapsedMs: number;
  inFlight: number;
}

export interface RelayThroughput extends DirectThroughput {
  /** The relay process's CPU (user + system) per delivery, µs: the floor for the server's. */
  cpuPerDeliveryUs: number;
}

/** Deliveries/s of `deliveries` direct POSTs spread over `endpoints` receiver ports, a fixed number in flight. */
export function directThroughput(
  ctx: Context,
  endpoints: number,
  deliveries: number,
): Promise<DirectThroughput> {
  const inFlight = ctx.knob('BENCH_BASELINE_IN_FLIGHT');
  return ctx.once(`direct-throughput:${endpoints}:${deliveries}`, async () => {
    ctx.log(`baseline: ${deliveries} direct POSTs to ${endpoints} receiver port(s), ${inFlight} in flight`);
    const sink = await Sink.start('ok');
    const pools: Pool[] = [];
    try {
      const ports = await sink.listen(endpoints);
      for (const port of ports) pools.push(new Pool(`http://127.0.0.1:${port}`, { connections: inFlight }));
      const object = sizedObject(ctx.knob('BENCH_EVENT_BYTES'));
      const bodies = Array.from({ length: 1000 }, () => eventEnvelope('payout.paid', object));
      const started = now();
      const loop = await closedLoop({
        concurrency: inFlight,
        total: deliveries,
        request: (i) => deliver(pools[i % endpoints]!, `/ep${i % endpoints}`, bodies[i % bodies.length]!),
      });
      if (loop.failed > 0)
        throw new Error(`direct baseline: ${loop.failed} failed, e.g. ${loop.failures[0]}`);
      const s = await sink.waitFor(deliveries, ctx.knob('BENCH_STALL_SECONDS') * 1000);
      const elapsedMs = s.lastAt - started;
      return { rate: (deliveries / elapsedMs) * 1000, elapsedMs, inFlight };
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await sink.stop();
    }
  });
}

/**
 * Latency of a direct POST at a fixed rate: from the moment this process
 * starts the request (signing included) to its arrival at the receiver.
 * The floor for the latency scenarios: one loopback HTTP hop between two
 * processes on this machine, under the same clock.
 */
export function directLatency(ctx: Context, rate: number, seconds: number): Promise<Distribution> {
  return ctx.once(`direct-latency:${rate}:${seconds}`, async () => {
    ctx.log(`baseline: direct POSTs at ${rate}/s for ${seconds} s`);
    const sink = await Sink.start('ok');
    let pool: Pool | null = null;
    try {
      const [port] = await sink.listen(1);
      pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
      const p = pool;
      await sink.record(true);
      const object = sizedObject(ctx.knob('BENCH_EVENT_BYTES'));
      const sentAt = new Map<string, number>();
      const loop = await openLoop({
        rate,
        seconds,
        maxInFlight: 256,
        request: async () => {
          const id = `evt_${randomBytes(12).toString('hex')}`;
          const body = eventEnvelope('payout.paid', object, id);
          sentAt.set(id, now());
          return deliver(p, '/ep0', body);
        },
      });
      await sink.waitFor(loop.ok, ctx.knob('BENCH_STALL_SECONDS') * 1000);
      const arrivals = await sink.arrivals();
      const latencies: number[] = [];
      arrivals.ids.forEach((id, i) => {
        const t = sentAt.get(id);
        if (t !== undefined) latencies.push(arrivals.times[i]! - t);
      });
      return distribution(latencies);
    } finally {
      await pool?.close();
      await sink.stop();
    }
  });
}

const RELAY_SCRIPT = fileURLToPath(new URL('./relayProcess.js', import.meta.url));
const RELAY_KEY = 'sk_test_benchRelayKey000000';

/**
 * Deliveries/s of the bare relay (relayProcess.ts): the same closed loop of
 * publishes as the throughput scenario, to a process that does Switchboard's
 * hops without storing anything, timed the same way (first publish accepted
 * → last delivery received).
 */
export function relayThroughput(ctx: Context, events: number): Promise<RelayThroughput> {
  const inFlight = ctx.knob('BENCH_BASELINE_IN_FLIGHT');
  const concurrency = ctx.knob('BENCH_PUBLISH_CONCURRENCY');
  return ctx.once(`relay-throughput:${events}`, async () => {
    ctx.log(`baseline: bare relay, ${events} publishes, ${inFlight} deliveries in flight`);
    const sink = await Sink.start('ok');
    const [port] = await sink.listen(1);
    const child = spawn(
      process.execPath,
      [RELAY_SCRIPT, `http://127.0.0.1:${port}/ep0`, RELAY_KEY, String(inFlight)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let api: ApiClient | null = null;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.setEncoding('utf8');
        child.stdout?.on('data', (chunk: string) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the relay exited with ${code} during start`)));
      });
      api = new ApiClient(url, RELAY_KEY, concurrency);
      const body = publishBody('payout.paid', sizedObject(ctx.knob('BENCH_EVENT_BYTES')));
      const cpuBefore = cpuTimeOf(child.pid ?? -1);
      const { loop, firstAccepted } = await publishAll(api, body, concurrency, events);
      if (loop.failed > 0) throw new Error(`relay baseline: ${loop.failed} failed, e.g. ${loop.failures[0]}`);
      const s = await sink.waitFor(events, ctx.knob('BENCH_STALL_SECONDS') * 1000);
      const elapsedMs = s.lastAt - firstAccepted;
      const cpuPerDeliveryUs = ((cpuTimeOf(child.pid ?? -1) - cpuBefore) * 1000) / events;
      return { rate: (events / elapsedMs) * 1000, elapsedMs, inFlight, cpuPerDeliveryUs };
    } finally {
      await api?.close();
      child.kill('SIGTERM');
      await sink.stop();
    }
  });
}
