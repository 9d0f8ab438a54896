/**
 * One clock for every process of a run. `performance.timeOrigin` is read
 * from the system's wall clock once, when a process starts, and
 * `performance.now()` is monotonic from there; their sum gives
 * sub-millisecond timestamps that can be compared across processes on the
 * same machine (`Date.now()` would round to whole milliseconds, which is the
 * size of what the latency scenarios measure).
 */

import { performance } from 'node:perf_hooks';

export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A delay that does not keep the process alive: for timeouts raced against
 * an event (a child's exit), where a pending timer would otherwise hold the
 * run open long after the event.
 */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });
