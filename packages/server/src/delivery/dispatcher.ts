/**
 * The dispatcher: claims due deliveries, sends them (many in flight, bounded
 * overall and per endpoint), and records the attempts in batches.
 *
 * Every node runs one. Claims carry a lease, so a node that dies mid-delivery
 * has its deliveries picked up by another once the lease runs out
 * (at-least-once). Tests step it with `runOnce()` and a manual clock instead
 * of waiting on timers.
 */

import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { randomToken } from '../ids.js';
import type { AttemptResult, ClaimedDelivery, DeliveryOutcome, Store } from '../store/types.js';
import { type AttemptReport, type AttemptTarget, attemptDelivery } from './attempt.js';
import { nextAttemptAt } from './retrySchedule.js';
import type { Sender } from './send.js';

export interface DispatcherOptions {
  store: Store;
  sender: Sender;
  clock: Clock;
  random?: () => number;
  /** Delays between attempts for live-mode and test-mode deliveries (see docs/retries.md). */
  liveSchedule: readonly number[];
  testSchedule: readonly number[];
  /**
   * How long a claim is held. It must cover a wait for an endpoint slot (up
   * to one timeout) plus the send (another), so a live node never loses its claim.
   */
  leaseMs: number;
  /** Deliveries in flight (or waiting for an endpoint slot) on this node, in all. */
  maxInFlight?: number;
  /** Deliveries in flight on this node to one endpoint: one slow endpoint cannot take every slot. */
  perEndpointConcurrency?: number;
  /** How often an idle dispatcher looks for due work published by other nodes or scheduled retries. */
  idlePollMs?: number;
  /** While deliveries are in flight, how long to gather finished attempts before recording them (default 5 ms). */
  batchDelayMs?: number;
  owner?: string;
  /**
   * Claim listen-session deliveries of these endpoints only (a `switchboard
   * listen` session runs its own dispatcher over its websocket). Without it,
   * the dispatcher claims ordinary webhook deliveries and never listen ones.
   */
  listenEndpointIds?: readonly string[];
  onError?: (error: unknown) => void;
}

export interface Dispatcher {
  /** Claim what is due now, send it, record the results. Resolves with the number of attempts made. */
  runOnce(): Promise<number>;
  /** Run continuously until `stop()`. */
  start(): void;
  /** Stop claiming, wait for in-flight attempts and record them. */
  stop(): Promise<void>;
  /** New work may be due now (an event was just published). */
  wake(): void;
  /** A manual resend outside the schedule; recorded as a manual attempt. */
  resend(target: AttemptTarget): Promise<AttemptReport>;
  readonly owner: string;
  readonly inFlight: number;
}

/** Decide what happens to a delivery after a failed attempt. */
export function failureOutcome(
  claimed: Pick<ClaimedDelivery, 'attempt' | 'createdAt' | 'livemode' | 'endpointLastSuccessAt'>,
  now: number,
  retryAfterMs: number | null,
  schedules: { live: readonly number[]; test: readonly number[] },
  random: () => number,
): DeliveryOutcome {
  const at = nextAttemptAt({
    attempt: claimed.attempt,
    now,
    schedule: claimed.livemode ? schedules.live : schedules.test,
    random,
    retryAfterMs,
  });
  if (at !== null) return { kind: 'retry', at };
  // The retry window of this delivery is over. If the endpoint has not
  // answered 2xx once in that whole window, it is disabled.
  const silent = claimed.endpointLastSuccessAt === null || claimed.endpointLastSuccessAt < claimed.createdAt;
  return {
    kind: 'failed',
    disableEndpoint: silent
      ? {
          reason: `no successful delivery since ${new Date(claimed.createdAt).toISOString()}: retry window exhausted`,
        }
      : null,
  };
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, sender, clock } = options;
  const random = options.random ?? Math.random;
  const maxInFlight = options.maxInFlight ?? 256;
  const perEndpoint = options.perEndpointConcurrency ?? 32;
  const idlePollMs = options.idlePollMs ?? 1000;
  const batchDelayMs = options.batchDelayMs ?? 5;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomToken(6)}`;
  const schedules = { live: options.liveSchedule, test: options.testSchedule };
  const onError = options.onError ?? (() => {});

  const inFlightByEndpoint = new Map<string, number>();
  const running = new Set<Promise<void>>();
  let results: AttemptResult[] = [];
  let flushing: Promise<void> | null = null;
  let loop: Promise<void> | null = null;
  let stopping = false;
  let signal: (() => void) | null = null;
  // Set by wake() so a wake that lands while the loop is claiming is not lost.
  let woken = false;

  const notify = () => {
    woken = true;
    const s = signal;
    signal = null;
    s?.();
  };

  // Per-endpoint slots. A claim can return a delivery for an endpoint whose
  // slots are taken by an earlier claim; it waits here for a slot (the lease
  // covers the wait: see leaseMs).
  const waiting = new Map<string, Array<() => void>>();

  /** Endpoints with every slot taken or promised: the next claim skips them. */
  function saturated(): string[] {
    const out: string[] = [];
    for (const [id, n] of inFlightByEndpoint)
      if (n + (waiting.get(id)?.length ?? 0) >= perEndpoint) out.push(id);
    return out;
  }

  async function acquire(endpointId: string): Promise<void> {
    const n = inFlightByEndpoint.get(endpointId) ?? 0;
    if (n < perEndpoint) {
      inFlightByEndpoint.set(endpointId, n + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const queue = waiting.get(endpointId) ?? [];
      queue.push(resolve);
      waiting.set(endpointId, queue);
    });
  }

  function release(endpointId: string): void {
    const queue = waiting.get(endpointId);
    const next = queue?.shift();
    if (queue && queue.length === 0) waiting.delete(endpointId);
    // Hand the slot straight to the next waiter; the count stays the same.
    if (next) {
      next();
      return;
    }
    const n = (inFlightByEndpoint.get(endpointId) ?? 1) - 1;
    if (n <= 0) inFlightByEndpoint.delete(endpointId);
    else inFlightByEndpoint.set(endpointId, n);
  }

  async function flush(): Promise<void> {
    // One writer at a time; attempts that finish meanwhile join the next batch.
    while (flushing) await flushing;
    if (results.length === 0) return;
    const batch = results;
    results = [];
    flushing = store.recordAttempts(batch).then(
      () => {
        flushing = null;
      },
      (error: unknown) => {
        flushing = null;
        // Keep them for the next flush: the leases still protect the deliveries.
        results = batch.concat(results);
        throw error;
      },
    );
    await flushing;
  }

  function launch(claimed: ClaimedDelivery): Promise<void> {
    const p = (async () => {
      await acquire(claimed.endpointId);
      try {
        const report = await attemptDelivery(
          sender,
          clock,
          {
            deliveryId: claimed.id,
            eventId: claimed.eventId,
            endpointId: claimed.endpointId,
            url: claimed.url,
            secrets: claimed.secrets,
            body: claimed.body,
            livemode: claimed.livemode,
          },
          false,
        );
        const outcome: DeliveryOutcome = report.success
          ? { kind: 'delivered' }
          : failureOutcome(claimed, clock(), report.retryAfterMs, schedules, random);
        results.push({ attempt: report.record, outcome, leaseOwner: owner });
      } catch (error) {
        // attemptDelivery does not throw for network trouble; this is a bug. The lease will expire
        // and the delivery be retried.
        onError(error);
      } finally {
        release(claimed.endpointId);
      }
    })();
    running.add(p);
    p.finally(() => {
      running.delete(p);
      notify();
    });
    return p;
  }

  async function claim(limit: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return store.claimDue({
      now: clock(),
      limit,
      leaseMs: options.leaseMs,
      owner,
      perEndpointLimit: perEndpoint,
      excludeEndpointIds: saturated(),
      ...(options.listenEndpointIds ? { listen: true, onlyEndpointIds: [...options.listenEndpointIds] } : {}),
    });
  }

  async function runLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        woken = false;
        if (results.length > 0) await flush();
        const wanted = Math.min(maxInFlight - running.size, 200);
        const claimed = await claim(wanted);
        for (const c of claimed) launch(c);
        failures = 0;
        // A claim that got less than it asked for took everything claimable: claiming again at once would only
        // rescan the due rows of the endpoints it just saturated. Wait for a finished attempt or a publish.
        if ((claimed.length < wanted || running.size >= maxInFlight) && !woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, idlePollMs);
            signal = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          // Under load, let more attempts finish before the next write and claim: one transaction for many
          // results instead of two per delivery.
          if (running.size > 0 && batchDelayMs > 0)
            await new Promise((resolve) => setTimeout(resolve, batchDelayMs));
        }
      } catch (error) {
        onError(error);
        failures++;
        // The database is unreachable or failing: back off, up to 5 s.
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
      }
    }
  }

  return {
    owner,
    get inFlight() {
      return running.size;
    },
    async runOnce() {
      const claimed = await claim(maxInFlight - running.size);
      await Promise.all(claimed.map(launch));
      await flush();
      return claimed.length;
    },
    start() {
      if (loop) return;
      stopping = false;
      loop = runLoop();
    },
    async stop() {
      stopping = true;
      notify();
      await loop;
      loop = null;
      await Promise.all([...running]);
      await flush().catch(onError);
    },
    wake: notify,
    async resend(target) {
      const report = await attemptDelivery(sender, clock, target, true);
      await store.recordAttempts([
        { attempt: report.record, outcome: { kind: 'manual', ok: report.success }, leaseOwner: null },
      ]);
      return report;
    },
  };
}
