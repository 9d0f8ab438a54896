/** What every scenario gets: the options, the run's shared measurements, and progress output. */

import { now } from './clock.js';
import type { BenchOptions, KnobName } from './options.js';
import type { Engine } from './server.js';

export interface Context {
  options: BenchOptions;
  knob(name: KnobName): number;
  /** p99 of the latency scenario per engine, the reference of the isolation scenario. */
  latencyP99: Map<Engine, number>;
  /**
   * Baselines, measured once per run and shared by the engines (and by
   * scenarios that compare with the same thing), keyed by what they measured.
   */
  once<T>(key: string, measure: () => Promise<T>): Promise<T>;
  /** Progress on stderr, so stdout keeps only the results. */
  log(message: string): void;
  /** Log `status()` every 10 s until the returned function is called (long phases of full runs). */
  progress(status: () => string): () => void;
  /** Remarks for the report that belong to no single row. */
  remarks: string[];
}

export function createContext(options: BenchOptions): Context {
  const memo = new Map<string, Promise<unknown>>();
  const started = now();
  const log = (message: string) =>
    process.stderr.write(`[${((now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  return {
    options,
    knob: (name) => options.values[name],
    latencyP99: new Map(),
    once<T>(key: string, measure: () => Promise<T>): Promise<T> {
      let p = memo.get(key) as Promise<T> | undefined;
      if (!p) {
        p = measure();
        memo.set(key, p);
      }
      return p;
    },
    log,
    progress(status) {
      const timer = setInterval(() => log(`  … ${status()}`), 10_000);
      return () => clearInterval(timer);
    },
    remarks: [],
  };
}
