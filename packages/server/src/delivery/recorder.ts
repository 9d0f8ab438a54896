/**
 * The recorder: attempts finish one by one, and are written in batches, one
 * transaction for many results instead of one per delivery. One write at a
 * time; results that finish meanwhile join the next batch. A write that fails
 * keeps its results for the next one: their leases still hold the deliveries.
 */

import type { AttemptResult } from '../store/types.js';

export type WriteResults = (batch: readonly AttemptResult[]) => Promise<void>;

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
    while (this.writing) await this.writing;
    if (this.pendingResults.length === 0) return 0;
    const batch = this.pendingResults;
    this.pendingResults = [];
    this.writing = this.write(batch).then(
      () => {
        this.writing = null;
      },
      (error: unknown) => {
        this.writing = null;
        this.pendingResults = batch.concat(this.pendingResults);
        throw error;
      },
    );
    await this.writing;
    return batch.length;
  }
}
