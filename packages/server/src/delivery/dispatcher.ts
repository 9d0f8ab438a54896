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
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.js';
import { randomToken } from '../ids.js';
import type { AttemptResult, ClaimedDelivery, DeliveryOutcome, Store } from '../store/types.js';
import { type AttemptReport, type AttemptTarget, attemptDelivery } from './attempt.js';
import { DEFAULT_DISABLE_AFTER_MS, disablesAt, failureOutcome } from './giveUp.js';
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
  /** No 2xx for this long disables an endpoint (giveUp.ts); default 3 days. */
  disableAfterMs?: number;
  /** A failing endpoint on its way to being disabled, or disabled now: for the log. */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

/** Slots reserved for the deliveries of one publish (see `Dispatcher.reserve`). */
export interface Reservation {
  readonly owner: string;
  readonly until: number;
  /** The endpoints whose deliveries are to be stored leased and given to `start`. */
  readonly endpointIds: ReadonlySet<string>;
  /** The leased deliveries are committed: send them. */
  start(deliveries: readonly ClaimedDelivery[]): void;
  /** The publish failed: give the slots back. */
  cancel(): void;
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
  /**
   * Take fresh deliveries of a publish straight into this node's send queue,
   * without a claim query: reserve slots for some of `endpointIds` before the
   * event is stored, store those deliveries leased to `owner` until `until`,
   * then `start` them after the commit (or `cancel` if it failed). null when
   * nothing can be taken now (the loop is not running, every slot is taken,
   * or an endpoint has older due deliveries that a claim must reach first);
   * what is not taken is stored unclaimed and reaches the dispatcher by a claim.
   *
   * @example
   * const r = dispatcher.reserve(['we_1', 'we_2'], now);
   * // store we_1's delivery with lease { owner: r.owner, until: r.until } if r?.endpointIds.has('we_1') …
   * r?.start(claimedDeliveries);
   */
  reserve(endpointIds: readonly string[], now: number): Reservation | null;
  readonly owner: string;
  readonly inFlight: number;
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
  const forListen = options.listenEndpointIds !== undefined;
  const disableAfterMs = options.disableAfterMs ?? DEFAULT_DISABLE_AFTER_MS;
  const warnedAt = new Map<string, number>();
  /** Say, at most hourly, that a failing endpoint is on its way to being disabled (and when it is). */
  function warnIfFailing(claimed: ClaimedDelivery, outcome: DeliveryOutcome): void {
    const since = claimed.endpointFailingSince;
    if (forListen || !options.onWarning || since === null) return;
    const now = clock();
    const disabling =
      (outcome.kind === 'retry' || outcome.kind === 'failed') && Boolean(outcome.disableEndpoint);
    if (
      !disabling &&
      (now - since < disableAfterMs / 2 || now - (warnedAt.get(claimed.endpointId) ?? -Infinity) < 3_600_000)
    )
      return;
    warnedAt.set(claimed.endpointId, now);
    options.onWarning(
      disabling ? 'endpoint disabled: no 2xx for too long' : 'endpoint failing: it will be disabled',
      {
        endpoint: claimed.endpointId,
        failingSince: new Date(since).toISOString(),
        disablesAt: new Date(disablesAt(since, disableAfterMs)).toISOString(),
      },
    );
  }

  const inFlightByEndpoint = new Map<string, number>();
  const refillAt = Math.floor(perEndpoint / 2);
  const globalRefill = Math.max(1, Math.floor(maxInFlight / 8));
  // Slots promised to publishes whose deliveries are being stored leased to this node.
  const reservedByEndpoint = new Map<string, number>();
  let reservedTotal = 0;
  // Endpoints that may have older due deliveries than a fresh publish: a claim skipped them (saturated) or
  // filled their cap. Publishes are not handed to them until a claim finds them caught up, so fresh
  // events cannot keep an endpoint's slots and starve its due retries.
  const behind = new Set<string>();
  // The same for the node as a whole: a publish found every slot taken and stored its deliveries unclaimed.
  let nodeBehind = false;
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
  // A claim is worth making: something may be due that this node could take now. Finished attempts only need
  // their results written; a claim after each of them would cost more than the attempt.
  let claimNeeded = true;
  // Set while the loop waits to gather results: wakes it early for a claim.
  let claimSignal: (() => void) | null = null;
  const notifyClaim = () => {
    claimNeeded = true;
    notify();
  };

  // Per-endpoint slots. A claim can return a delivery for an endpoint whose
  // slots are taken by an earlier claim; it waits here for a slot (the lease
  // covers the wait: see leaseMs).
  const waiting = new Map<string, Array<() => void>>();

  /** Deliveries of an endpoint in flight, waiting for a slot, or reserved by a publish. */
  function load(endpointId: string): number {
    return (
      (inFlightByEndpoint.get(endpointId) ?? 0) +
      (waiting.get(endpointId)?.length ?? 0) +
      (reservedByEndpoint.get(endpointId) ?? 0)
    );
  }

  /** Endpoints with at least `bound` deliveries in flight, waiting or promised. */
  function loadedAtLeast(bound: number): string[] {
    const out: string[] = [];
    for (const id of inFlightByEndpoint.keys()) if (load(id) >= bound) out.push(id);
    for (const id of reservedByEndpoint.keys())
      if (!inFlightByEndpoint.has(id) && load(id) >= bound) out.push(id);
    return out;
  }

  /** After a claim: which endpoints may still have due deliveries it did not take. */
  function noteClaim(
    claimed: readonly ClaimedDelivery[],
    wanted: number,
    excluded: readonly string[],
    deep: boolean,
  ): void {
    const taken = new Map<string, number>();
    for (const c of claimed) taken.set(c.endpointId, (taken.get(c.endpointId) ?? 0) + 1);
    // Skipped at their bound: they may have due deliveries the claim did not look at.
    for (const id of excluded) if (load(id) >= perEndpoint) behind.add(id);
    for (const [id, n] of taken) if (n >= perEndpoint) behind.add(id);
    // A deep claim that got less than it asked for saw every due delivery of the endpoints it did not skip.
    if (deep && claimed.length < wanted) {
      nodeBehind = false;
      const skipped = new Set(excluded);
      for (const id of behind) if (!skipped.has(id) && (taken.get(id) ?? 0) < perEndpoint) behind.delete(id);
    }
  }

  function unreserve(endpointIds: Iterable<string>): void {
    for (const id of endpointIds) {
      const n = (reservedByEndpoint.get(id) ?? 1) - 1;
      if (n <= 0) reservedByEndpoint.delete(id);
      else reservedByEndpoint.set(id, n);
      reservedTotal--;
    }
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
    if (next) {
      // Hand the slot straight to the next waiter; the in-flight count stays the same.
      next();
    } else {
      const n = (inFlightByEndpoint.get(endpointId) ?? 1) - 1;
      if (n <= 0) inFlightByEndpoint.delete(endpointId);
      else inFlightByEndpoint.set(endpointId, n);
    }
    // Half the endpoint's slots are free again: claim more of its due deliveries while the other half still
    // sends, so its pipeline never runs dry waiting for the loop (and one claim serves many attempts).
    if (load(endpointId) === refillAt) {
      claimNeeded = true;
      claimSignal?.();
    }
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
            apiVersion: claimed.apiVersion,
            livemode: claimed.livemode,
          },
          false,
        );
        const outcome: DeliveryOutcome = report.success
          ? { kind: 'delivered' }
          : failureOutcome(
              claimed,
              clock(),
              report.retryAfterMs,
              schedules,
              random,
              forListen ? null : disableAfterMs,
            );
        if (!report.success) warnIfFailing(claimed, outcome);
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
      // The node has room again (an eighth of its slots, not one: a claim per finished attempt would cost more
      // than the attempt).
      if (running.size + reservedTotal === maxInFlight - globalRefill) {
        claimNeeded = true;
        claimSignal?.();
      }
      notify();
    });
    return p;
  }

  // When the last survey ran (monotonic ms): see `claim`.
  let lastSurvey = Number.NEGATIVE_INFINITY;

  /**
   * Claim up to `limit` due deliveries of endpoints below their bound. Most claims refill endpoints running
   * low; with endpoints excluded they are shallow (they serve the endpoints among the oldest due deliveries
   * rather than every endpoint with pending ones). At least once per idle-poll period a claim is a survey:
   * deep, and skipping every endpoint at least half busy (its own refills serve it), so that due deliveries
   * of other endpoints behind a busy endpoint's backlog, retries coming due and other nodes' publishes are
   * found whatever the traffic.
   */
  async function claim(limit: number, survey = false): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    if (survey) lastSurvey = performance.now();
    const excluded = loadedAtLeast(survey ? Math.max(1, refillAt) : perEndpoint);
    const deep = survey || excluded.length === 0;
    const claimed = await store.claimDue({
      now: clock(),
      limit,
      leaseMs: options.leaseMs,
      owner,
      perEndpointLimit: perEndpoint,
      excludeEndpointIds: excluded,
      ...(deep ? {} : { shallow: true }),
      ...(options.listenEndpointIds ? { listen: true, onlyEndpointIds: [...options.listenEndpointIds] } : {}),
    });
    noteClaim(claimed, limit, excluded, deep);
    return claimed;
  }

  async function runLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        woken = false;
        if (results.length > 0) await flush();
        // The survey is a deadline, not an idle timer: steady traffic must not put it off.
        const survey = performance.now() - lastSurvey >= idlePollMs;
        if (claimNeeded || survey) {
          claimNeeded = false;
          const wanted = Math.min(maxInFlight - running.size - reservedTotal, 200);
          const claimed = await claim(wanted, survey);
          for (const c of claimed) launch(c);
          // A full claim may have left more due; one that got less took everything claimable for now.
          if (wanted > 0 && claimed.length === wanted) claimNeeded = true;
        }
        failures = 0;
        if (!claimNeeded && !woken) {
          await new Promise<void>((resolve) => {
            // Retries come due and other nodes publish without telling this one: survey again by then.
            const timer = setTimeout(resolve, Math.max(0, lastSurvey + idlePollMs - performance.now()));
            signal = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          // Under load, let more attempts finish before the next write: one transaction for many results
          // instead of one per delivery. Not when a claim is due: an endpoint is running low.
          if (running.size > 0 && batchDelayMs > 0 && !claimNeeded) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                claimSignal = null;
                resolve();
              }, batchDelayMs);
              // …cut short when an endpoint runs low meanwhile.
              claimSignal = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            claimSignal = null;
          }
        }
      } catch (error) {
        onError(error);
        failures++;
        claimNeeded = true;
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
    wake: notifyClaim,
    reserve(endpointIds, now) {
      if (!loop || stopping || options.listenEndpointIds) return null;
      const taken = new Set<string>();
      for (const id of endpointIds) {
        // What is not taken is stored for a claim, and is then older than what later publishes bring: the
        // endpoint (or the node) is behind until a claim catches up, so fresh events cannot overtake it
        // indefinitely. A claim follows when a slot frees; an endpoint behind with free slots needs one now.
        if (nodeBehind || running.size + reservedTotal >= maxInFlight) {
          nodeBehind = true;
          break;
        }
        if (taken.has(id)) continue;
        if (load(id) >= perEndpoint) {
          behind.add(id);
          continue;
        }
        if (behind.has(id)) {
          // Running low: claim now. Otherwise the refill claim at half load comes soon enough.
          if (load(id) < refillAt) notifyClaim();
          continue;
        }
        reservedByEndpoint.set(id, (reservedByEndpoint.get(id) ?? 0) + 1);
        reservedTotal++;
        taken.add(id);
      }
      if (taken.size === 0) return null;
      let settled = false;
      return {
        owner,
        until: now + options.leaseMs,
        endpointIds: taken,
        start(deliveries) {
          if (settled) return;
          settled = true;
          unreserve(taken);
          // Stopped meanwhile: the deliveries stay leased to this node and are claimed again when the lease ends.
          if (stopping) return;
          for (const d of deliveries) if (taken.has(d.endpointId)) launch(d);
        },
        cancel() {
          if (settled) return;
          settled = true;
          unreserve(taken);
          notifyClaim();
        },
      };
    },
    async resend(target) {
      const report = await attemptDelivery(sender, clock, target, true);
      await store.recordAttempts([
        { attempt: report.record, outcome: { kind: 'manual', ok: report.success }, leaseOwner: null },
      ]);
      return report;
    },
  };
}
