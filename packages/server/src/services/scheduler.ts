/**
 * The scheduler: runs the steps emulated objects set for later (funds
 * becoming available, a payout's outcome) when the server's clock reaches
 * them. Each step is claimed with a lease, so one node runs it; its handler
 * completes it in the transaction of the event it causes, so a step is done
 * exactly when its outcome is stored. A handler that fails leaves the step to
 * be claimed again when the lease ends. `runOnce()` is one pass of the loop
 * that runs on delivering nodes; tests step the clock and call it.
 */

import type { Clock } from '../clock.js';
import type { ClaimStepsOptions, ScheduledStep, ScheduleStore, StepRequest } from '../store/types.js';

/** Does what a step says; completes it (with its event, or `completeSteps`) when done. */
export type StepHandler = (step: ScheduledStep, request: StepRequest) => Promise<void>;

const NO_REQUEST: StepRequest = { requestId: null, idempotencyKey: null };

export interface SchedulerOptions {
  store: ScheduleStore;
  clock: Clock;
  handlers: Readonly<Record<string, StepHandler>>;
  /** How long a claimed step is this node's before another may run it (default 60 s). */
  leaseMs?: number;
  /** How often the loop looks for due steps (default 1 s). */
  pollMs?: number;
  /** Steps per pass (default 100). */
  batch?: number;
  onError?: (error: unknown, step: ScheduledStep) => void;
  /** A pass of the loop could not claim (the database away): the loop goes on. */
  onPassError?: (error: unknown) => void;
}

export interface Scheduler {
  /**
   * One pass: claim the due steps and run them, in the order they were due.
   * Returns how many ran. `options` claims ahead of time, for one account
   * (the test helper that moves an account's time).
   */
  runOnce(options?: ClaimStepsOptions, request?: StepRequest): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const leaseMs = options.leaseMs ?? 60_000;
  const pollMs = options.pollMs ?? 1000;
  const batch = options.batch ?? 100;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let started = false;

  async function pass(claim: ClaimStepsOptions = {}, request: StepRequest = NO_REQUEST): Promise<number> {
    const steps = await options.store.claimDueSteps(options.clock(), leaseMs, batch, claim);
    let ran = 0;
    for (const step of steps) {
      const handler = options.handlers[step.kind];
      try {
        if (handler) await handler(step, request);
        else {
          // Nothing here knows it (a newer version scheduled it): dropped rather than claimed forever.
          await options.store.completeSteps([step.id]);
          throw new Error(`no handler for scheduled step kind '${step.kind}'`);
        }
        ran++;
      } catch (error) {
        options.onError?.(error, step);
      }
    }
    return ran;
  }

  const runOnce = (claim?: ClaimStepsOptions, request?: StepRequest): Promise<number> => {
    // One pass at a time: a test's step and the loop's do not run the same steps side by side.
    const next = (running ?? Promise.resolve(0)).catch(() => 0).then(() => pass(claim, request));
    running = next;
    // Both outcomes handled here: a failed pass (the database away) is the caller's to see, never unhandled.
    const clear = () => {
      if (running === next) running = null;
    };
    next.then(clear, clear);
    return next;
  };

  const schedule = () => {
    if (!started) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => {
          options.onPassError?.(error);
          return 0;
        })
        .finally(schedule);
    }, pollMs);
    timer.unref();
  };

  return {
    runOnce,
    start() {
      if (started) return;
      started = true;
      schedule();
    },
    async stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => 0);
    },
  };
}
