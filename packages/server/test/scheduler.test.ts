/**
 * The scheduler over a real store, stepped on a manual clock: due steps run
 * in the order they were due, once; a failing handler's step runs again when
 * its lease ends; a step nobody handles is dropped and reported.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manualClock } from '../src/clock.js';
import { createScheduler } from '../src/services/scheduler.js';
import type { ScheduledStep } from '../src/store/types.js';
import { makeTestStore, type TestStore } from './helpers/switchboard.js';

const T0 = Date.UTC(2026, 0, 1);

describe('scheduler', () => {
  let ts: TestStore;
  let failed = false;
  beforeEach(async () => {
    failed = false;
    ts = await makeTestStore('sqlite');
    await ts.store.migrate();
  });
  afterEach(async (ctx) => {
    failed ||= ctx.task.result?.state === 'fail';
    await ts.cleanup(failed);
  });

  const step = (id: string, kind: string, dueAt: number): ScheduledStep => ({
    id,
    kind,
    subjectId: `obj_${id}`,
    accountId: 'acct_platform',
    livemode: false,
    dueAt,
  });

  async function schedule(...steps: ScheduledStep[]) {
    await ts.store.appendEvent(
      {
        id: `evt_${steps[0]!.id}`,
        accountId: 'acct_platform',
        livemode: false,
        type: 'x.y',
        createdUnix: 0,
        body: '{}',
        requestId: null,
        idempotencyKey: null,
      },
      [],
      { scheduleSteps: steps },
    );
  }

  it('runs due steps in the order they were due, each once, completing them', async () => {
    const clock = manualClock(T0);
    const ran: string[] = [];
    const scheduler = createScheduler({
      store: ts.store,
      clock,
      handlers: {
        note: async (s) => {
          ran.push(s.id);
          await ts.store.completeSteps([s.id]);
        },
      },
    });
    await schedule(
      step('b', 'note', T0 + 2000),
      step('a', 'note', T0 + 1000),
      step('c', 'note', T0 + 60_000),
    );
    expect(await scheduler.runOnce()).toBe(0);
    clock.advance(5000);
    // Two passes at once run the due steps once between them.
    const [first, second] = await Promise.all([scheduler.runOnce(), scheduler.runOnce()]);
    expect(first + second).toBe(2);
    expect(ran).toEqual(['a', 'b']);
    clock.advance(120_000);
    expect(await scheduler.runOnce()).toBe(1);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(await scheduler.runOnce()).toBe(0);
  });

  it('a failing handler’s step runs again after its lease; an unknown kind is dropped and reported', async () => {
    const clock = manualClock(T0);
    const errors: string[] = [];
    let attempts = 0;
    const scheduler = createScheduler({
      store: ts.store,
      clock,
      leaseMs: 10_000,
      handlers: {
        flaky: async (s) => {
          attempts++;
          if (attempts === 1) throw new Error('not yet');
          await ts.store.completeSteps([s.id]);
        },
      },
      onError: (error, s) => errors.push(`${s.id}: ${String(error)}`),
    });
    await schedule(step('f', 'flaky', T0), step('u', 'unknown', T0));
    expect(await scheduler.runOnce()).toBe(0);
    expect(errors).toEqual(['f: Error: not yet', "u: Error: no handler for scheduled step kind 'unknown'"]);
    // Leased: nothing until the lease ends.
    clock.advance(5_000);
    expect(await scheduler.runOnce()).toBe(0);
    clock.advance(6_000);
    expect(await scheduler.runOnce()).toBe(1);
    expect(attempts).toBe(2);
    clock.advance(60_000);
    expect(await scheduler.runOnce()).toBe(0);
  });

  it('a pass that cannot reach the store fails to its caller, and the next one works', async () => {
    const clock = manualClock(T0);
    let away = true;
    const scheduler = createScheduler({
      store: {
        claimDueSteps: (...args) =>
          away ? Promise.reject(new Error('database away')) : ts.store.claimDueSteps(...args),
        completeSteps: (ids) => ts.store.completeSteps(ids),
      },
      clock,
      handlers: { note: (s) => ts.store.completeSteps([s.id]) },
    });
    await schedule(step('n', 'note', T0));
    await expect(scheduler.runOnce()).rejects.toThrow('database away');
    away = false;
    expect(await scheduler.runOnce()).toBe(1);
  });
});
