/**
 * The delivery engine: one per node, serving every destination (webhook
 * endpoints over HTTP, and the listen sessions connected to this node over
 * their websockets). It is a loop of steps; each step asks the claim policy
 * (claimPolicy.ts) whether and what to claim, claims it while writing the
 * results gathered so far (recorder.ts), and launches the attempts, which wait
 * for an endpoint slot (slots.ts), sign, send through their transport, and
 * classify the answer (attempt.ts, giveUp.ts). A publish's fresh deliveries
 * come in through the intake (intake.ts) without a claim.
 *
 * Claims carry a lease, so a node that dies mid-delivery has its deliveries
 * picked up by another once the lease runs out (at-least-once). Tests step
 * the loop with `runOnce()` and a manual clock, or run it and wait on its
 * `events` instead of sleeping.
 */

import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { randomToken } from '../ids.js';
import type { ClaimedDelivery, DeliveryOutcome, DeliveryStore } from '../store/types.js';
import { type AttemptReport, type AttemptTarget, attemptDelivery } from './attempt.js';
import { type ClaimPlan, ClaimPolicy } from './claimPolicy.js';
import { DEFAULT_DISABLE_AFTER_MS, failingWarning, failureOutcome } from './giveUp.js';
import { createIntake, type Intake } from './intake.js';
import { Recorder } from './recorder.js';
import { Slots } from './slots.js';
import type { Transport } from './transport.js';

/** The listen sessions connected to this node: only their deliveries are claimed here. */
export interface ListenDestinations {
  transport: Transport;
  /** The endpoints of the sessions connected to this node now. */
  endpointIds(): string[];
}

export interface EngineOptions {
  store: Pick<DeliveryStore, 'claimDue' | 'recordAttempts' | 'recordAndClaim'>;
  /** Webhook endpoints. */
  http: Transport;
  /** Listen sessions; without it none are served. */
  listen?: ListenDestinations;
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
  /** How often, on the engine's clock, a survey looks for retries coming due and other nodes' publishes. */
  surveyEveryMs?: number;
  /** While deliveries are in flight, how long to gather finished attempts before recording them (default 5 ms). */
  batchDelayMs?: number;
  owner?: string;
  onError?: (error: unknown) => void;
  /** No 2xx for this long disables an endpoint (giveUp.ts); default 3 days. */
  disableAfterMs?: number;
  /** A failing endpoint on its way to being disabled, or disabled now: for the log. */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

/** What one step of the loop did. */
export interface StepReport {
  claimed: number;
  recorded: number;
}

/** What the loop tells whoever listens: tests wait on these instead of sleeping. */
export interface EngineEvents {
  /** A step ended. */
  step: [StepReport];
  /** Attempt results were written. */
  recorded: [number];
  /** The loop rests with nothing in flight and nothing left to record. */
  idle: [];
}

/** Send a claimed delivery through the listen transport (true) or HTTP (false). */
export type Launch = (delivery: ClaimedDelivery, listen: boolean) => void;

export interface DeliveryEngine {
  readonly owner: string;
  /** Deliveries launched and not finished. */
  readonly inFlight: number;
  readonly events: EventEmitter<EngineEvents>;
  /** Where a publish hands its fresh deliveries (intake.ts). */
  readonly intake: Intake;
  /**
   * One step of the loop with a claim forced (whatever the node has room
   * for), then wait for the attempts it launched and record them. Resolves
   * with the number of deliveries claimed.
   */
  runOnce(): Promise<number>;
  /** Run the loop until `stop()`. */
  start(): void;
  /** Stop claiming, wait for in-flight attempts and record them. */
  stop(): Promise<void>;
  /** New work may be due now (an event was just published, a lease was released). */
  wake(): void;
  /** A manual resend outside the schedule, recorded as a manual attempt. */
  resend(target: AttemptTarget, destination: 'webhook' | 'listen'): Promise<AttemptReport>;
}

export function createDeliveryEngine(options: EngineOptions): DeliveryEngine {
  const { store, clock } = options;
  const random = options.random ?? Math.random;
  const maxInFlight = options.maxInFlight ?? 256;
  const perEndpoint = options.perEndpointConcurrency ?? 32;
  const surveyEveryMs = options.surveyEveryMs ?? 1000;
  const batchDelayMs = options.batchDelayMs ?? 5;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomToken(6)}`;
  const schedules = { live: options.liveSchedule, test: options.testSchedule };
  const onError = options.onError ?? (() => {});
  const disableAfterMs = options.disableAfterMs ?? DEFAULT_DISABLE_AFTER_MS;
  const events = new EventEmitter<EngineEvents>();

  const slots = new Slots(maxInFlight, perEndpoint);
  const policy = new ClaimPolicy(slots, surveyEveryMs);
  const recorder = new Recorder((batch) => store.recordAttempts(batch));
  // The node has room again at an eighth of its slots free, not one: a claim per finished attempt would cost
  // more than the attempt.
  const nodeRefillAt = Math.max(1, Math.floor(maxInFlight / 8));
  const running = new Set<Promise<void>>();
  const warnedAt = new Map<string, number>();
  let loop: Promise<void> | null = null;
  let stopping = false;

  // The loop's rest ends on `wake` (set `woken`, so a wake during a step is not lost) and, while it gathers
  // results, also when a claim is needed.
  let woken = false;
  let endRest: (() => void) | null = null;
  let endGathering: (() => void) | null = null;
  const notify = () => {
    woken = true;
    const end = endRest;
    endRest = null;
    end?.();
  };
  const claimNow = () => {
    policy.needClaim();
    endGathering?.();
    notify();
  };

  function warnIfFailing(claimed: ClaimedDelivery, outcome: DeliveryOutcome): void {
    if (!options.onWarning || (outcome.kind !== 'retry' && outcome.kind !== 'failed')) return;
    const now = clock();
    const since = claimed.endpointFailingSince;
    const warning = failingWarning(
      since,
      outcome,
      now,
      warnedAt.get(claimed.endpointId) ?? null,
      disableAfterMs,
    );
    if (!warning || since === null) return;
    warnedAt.set(claimed.endpointId, now);
    options.onWarning(warning.message, {
      endpoint: claimed.endpointId,
      failingSince: new Date(since).toISOString(),
      disablesAt: new Date(warning.disablesAt).toISOString(),
    });
  }

  const launch: Launch = (claimed, listen) => {
    const transport = listen ? options.listen?.transport : options.http;
    slots.begin();
    const p = (async () => {
      await slots.acquire(claimed.endpointId);
      try {
        if (!transport) throw new Error('a listen delivery was claimed with no listen transport');
        const report = await attemptDelivery(
          transport,
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
              // Listen sessions are never disabled.
              listen ? null : disableAfterMs,
            );
        if (!report.success && !listen) warnIfFailing(claimed, outcome);
        recorder.add({ attempt: report.record, outcome, leaseOwner: owner });
      } catch (error) {
        // attemptDelivery does not throw for network trouble; this is a bug. The lease will expire and the
        // delivery be retried.
        onError(error);
      } finally {
        // Half the endpoint's slots are free again: claim more of its due deliveries while the other half
        // still sends, so its pipeline never runs dry waiting for the loop.
        if (slots.release(claimed.endpointId)) claimNow();
      }
    })();
    running.add(p);
    p.finally(() => {
      running.delete(p);
      slots.finish();
      if (slots.free === nodeRefillAt) claimNow();
      else notify();
    });
  };

  const intake = createIntake({
    owner,
    leaseMs: options.leaseMs,
    admit: (endpointIds) => {
      const admission = policy.admit(endpointIds);
      if (admission.claimNow) claimNow();
      return admission.taken;
    },
    unreserve: (endpointIds) => slots.unreserve(endpointIds),
    accepting: () => loop !== null && !stopping,
    launch,
    needClaim: claimNow,
  });

  /**
   * Claim what the plan says: the connected listen sessions' due deliveries
   * first, then webhook ones, writing the results gathered so far in the same
   * call as the webhook claim.
   */
  async function claim(plan: ClaimPlan): Promise<StepReport> {
    const base = {
      now: clock(),
      leaseMs: options.leaseMs,
      owner,
      perEndpointLimit: perEndpoint,
      excludeEndpointIds: plan.excludeEndpointIds,
    };
    const claimedEndpoints: string[] = [];
    const skipped = new Set(plan.excludeEndpointIds);
    const listenIds = (options.listen?.endpointIds() ?? []).filter((id) => !skipped.has(id));
    if (listenIds.length > 0) {
      const got = await store.claimDue({
        ...base,
        limit: plan.limit,
        listen: true,
        onlyEndpointIds: listenIds,
      });
      for (const d of got) {
        launch(d, true);
        claimedEndpoints.push(d.endpointId);
      }
    }
    const room = plan.limit - claimedEndpoints.length;
    let recorded = 0;
    if (room > 0) {
      const webhooks = { ...base, limit: room, ...(plan.deep ? {} : { shallow: true }) };
      const got = await recorder.flushWith(async (batch) => {
        recorded = batch.length;
        return batch.length > 0 ? store.recordAndClaim(batch, webhooks) : store.claimDue(webhooks);
      });
      if (recorded > 0) events.emit('recorded', recorded);
      for (const d of got) {
        launch(d, false);
        claimedEndpoints.push(d.endpointId);
      }
    } else if (recorder.pending > 0) recorded = await record();
    policy.noteClaim(plan, claimedEndpoints);
    return { claimed: claimedEndpoints.length, recorded };
  }

  async function record(): Promise<number> {
    const n = await recorder.flush();
    if (n > 0) events.emit('recorded', n);
    return n;
  }

  /** The loop's body: claim if the policy says so, recording what finished in the same call; else record it. */
  async function step(force: boolean): Promise<StepReport> {
    const plan = policy.plan(clock(), force);
    const report = plan
      ? await claim(plan)
      : { claimed: 0, recorded: recorder.pending > 0 ? await record() : 0 };
    events.emit('step', report);
    return report;
  }

  /** Sleep until woken or the next survey is due; under load, gather results a moment before writing them. */
  async function rest(): Promise<void> {
    if (running.size === 0 && recorder.pending === 0) events.emit('idle');
    await new Promise<void>((resolve) => {
      // With no room, only a finishing attempt can make a claim worth making: it wakes the loop.
      const timer = slots.free > 0 ? setTimeout(resolve, policy.surveyDueIn(clock())) : undefined;
      endRest = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    // One transaction for many results instead of one per delivery; cut short when a claim is needed.
    if (running.size > 0 && batchDelayMs > 0 && !policy.wantsClaim) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, batchDelayMs);
        endGathering = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      endGathering = null;
    }
  }

  async function runLoop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        woken = false;
        await step(false);
        failures = 0;
        if (!policy.wantsClaim && !woken) await rest();
      } catch (error) {
        onError(error);
        failures++;
        policy.needClaim();
        // The database is unreachable or failing: back off, up to 5 s.
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
      }
    }
  }

  return {
    owner,
    events,
    intake,
    get inFlight() {
      return running.size;
    },
    async runOnce() {
      const { claimed } = await step(true);
      await Promise.all([...running]);
      await record();
      return claimed;
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
      await record().catch(onError);
    },
    wake: claimNow,
    async resend(target, destination) {
      const transport = destination === 'listen' ? options.listen?.transport : options.http;
      if (!transport) throw new Error('no listen transport on this engine');
      const report = await attemptDelivery(transport, clock, target, true);
      await store.recordAttempts([
        { attempt: report.record, outcome: { kind: 'manual', ok: report.success }, leaseOwner: null },
      ]);
      return report;
    },
  };
}
