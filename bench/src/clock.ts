/**
 * One clock for every process of a run: milliseconds of the machine's
 * monotonic clock (Linux CLOCK_MONOTONIC, since boot), which every process
 * on the machine reads alike, with sub-millisecond resolution. Not
 * `performance.timeOrigin + performance.now()`: the origin is the wall clock
 * read once at process start, and while the system clock is being slewed
 * two processes started a minute apart disagree by tens of milliseconds
 * (measured here: up to 117 ms), the size of what the latency scenarios
 * measure. Not `Date.now()`: whole milliseconds only.
 */

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

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
