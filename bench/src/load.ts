/**
 * Load generators. Two shapes, because they answer different questions:
 *
 * - closed loop: a fixed number of requests in flight, each answer starting
 *   the next; measures the most a server sustains (throughput, publish API);
 * - open loop: requests started on a fixed schedule whatever the answers
 *   take, so a slow server cannot slow the arrivals down and hide its
 *   queueing from the latency figures (coordinated omission).
 */

import { now, sleep } from './clock.js';

/** One request: `true` when it succeeded, or what went wrong. */
export type RequestFn = (i: number) => Promise<true | string>;

export interface LoopResult {
  ok: number;
  failed: number;
  startedAt: number;
  endedAt: number;
  /** The first few failures, for the report. */
  failures: string[];
}

class Tally implements LoopResult {
  ok = 0;
  failed = 0;
  startedAt = now();
  endedAt = 0;
  failures: string[] = [];

  record(outcome: true | string): void {
    if (outcome === true) this.ok++;
    else {
      this.failed++;
      if (this.failures.length < 3) this.failures.push(outcome);
    }
  }

  async run(fn: RequestFn, i: number): Promise<void> {
    try {
      this.record(await fn(i));
    } catch (error) {
      this.record(String(error));
    }
  }
}

export interface ClosedLoopOptions {
  concurrency: number;
  /** Stop after this many requests… */
  total?: number;
  /** …or when this time (clock.ts) has passed, whichever comes first. */
  until?: number;
  request: RequestFn;
}

export async function closedLoop(options: ClosedLoopOptions): Promise<LoopResult> {
  const tally = new Tally();
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const until = options.until ?? Number.POSITIVE_INFINITY;
  let next = 0;
  const worker = async () => {
    while (next < total && now() < until) await tally.run(options.request, next++);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  tally.endedAt = now();
  return tally;
}

export interface OpenLoopOptions {
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** A bound on requests in flight, so a stalled server cannot exhaust the generator's sockets. */
  maxInFlight: number;
  request: RequestFn;
}

export interface OpenLoopResult extends LoopResult {
  issued: number;
  /** How late the latest request started against its schedule, ms (large: the generator or the machine fell behind). */
  maxLagMs: number;
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const tally = new Tally();
  const total = Math.max(1, Math.round(options.rate * options.seconds));
  const interval = 1000 / options.rate;
  const running = new Set<Promise<void>>();
  let issued = 0;
  let maxLagMs = 0;
  const start = now();
  while (issued < total) {
    const t = now();
    while (issued < total && start + issued * interval <= t && running.size < options.maxInFlight) {
      maxLagMs = Math.max(maxLagMs, t - (start + issued * interval));
      const p = tally.run(options.request, issued++);
      running.add(p);
      p.finally(() => running.delete(p));
    }
    // Wake for the next slot; timers fire with ~1 ms granularity, so requests go out in small bursts at high rates.
    await sleep(Math.max(0, Math.min(5, start + issued * interval - now())));
  }
  await Promise.all(running);
  tally.endedAt = now();
  return { ...tally, failures: tally.failures, issued, maxLagMs };
}
