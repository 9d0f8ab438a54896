/**
 * The recorder: attempts finish one by one, and are written in batches, one
 * transaction for many results instead of one per delivery. One write at a
 * time; results that finish meanwhile join the next batch. A write that fails
 * keeps its results for the next one: their leases still hold the deliveries.
 */

import type { AttemptResult } from '../store/types.js';

export type WriteResults = (batch: AttemptResult[]) => Promise<void>;

export class Recorder {
  private pendingResults: AttemptResult[] = [];
  private writing: Promise<void> | null = null;

  constructor(private readonly write: WriteResults) {}

  add(result: AttemptResult): void {
    this.pendingResults.push(result);
  }

  /** Results not yet written. */
  get pending(): number {
    return this.pendingResults.length;
  }

  /** Write what is pending (after any write already running). Resolves with the number written. */
  async flush(): Promise<number> {
    return this.flushWith(async (batch) => {
      if (batch.length > 0) await this.write(batch);
      return batch.length;
    });
  }

  /**
   * Hand what is pending to `write` (after any write already running), which
   * writes it and may do more in the same call (record and claim at once);
   * resolves with what `write` returns. If it fails, the batch is kept.
   */
  async flushWith<T>(write: (batch: AttemptResult[]) => Promise<T>): Promise<T> {
    while (this.writing) await this.writing;
    const batch = this.pendingResults;
    this.pendingResults = [];
    const written = write(batch);
    this.writing = written.then(
      () => {
        this.writing = null;
      },
      () => {
        this.writing = null;
        this.pendingResults = batch.concat(this.pendingResults);
      },
    );
    return written;
  }
}
