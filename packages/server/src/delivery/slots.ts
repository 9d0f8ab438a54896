/**
 * Slot accounting: how many deliveries this node has in flight, in all and
 * per endpoint, how many wait for an endpoint slot, and how many are promised
 * to publishes whose deliveries are being stored leased to this node.
 *
 * No IO and no clock: the engine asks it and tells it; the claim policy reads
 * it. A claim may return a delivery of an endpoint whose slots an earlier
 * claim took; it waits here for one (the lease covers the wait).
 */

export class Slots {
  /** Deliveries in flight on this node to one endpoint. */
  readonly perEndpoint: number;
  /** Deliveries in flight, waiting for an endpoint slot or reserved, on this node in all. */
  readonly total: number;
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly reserved = new Map<string, number>();
  private reservedCount = 0;
  private runningCount = 0;

  constructor(total: number, perEndpoint: number) {
    this.total = total;
    this.perEndpoint = perEndpoint;
  }

  /** Half an endpoint's slots: when its load falls to this, a claim refills it while the other half sends. */
  get refillAt(): number {
    return Math.floor(this.perEndpoint / 2);
  }

  /** Deliveries launched and not finished (sending or waiting for an endpoint slot). */
  get running(): number {
    return this.runningCount;
  }

  get reservedTotal(): number {
    return this.reservedCount;
  }

  /** Node slots neither running nor promised. */
  get free(): number {
    return this.total - this.runningCount - this.reservedCount;
  }

  /** Deliveries of an endpoint in flight, waiting for a slot, or reserved by a publish. */
  load(endpointId: string): number {
    return (
      (this.inFlight.get(endpointId) ?? 0) +
      (this.waiting.get(endpointId)?.length ?? 0) +
      (this.reserved.get(endpointId) ?? 0)
    );
  }

  /** Endpoints with at least `bound` deliveries in flight, waiting or promised. */
  loadedAtLeast(bound: number): string[] {
    const out: string[] = [];
    for (const id of this.inFlight.keys()) if (this.load(id) >= bound) out.push(id);
    for (const id of this.reserved.keys()) if (!this.inFlight.has(id) && this.load(id) >= bound) out.push(id);
    return out;
  }

  /** Promise a slot of `endpointId` to a publish (see intake.ts). */
  reserve(endpointId: string): void {
    this.reserved.set(endpointId, (this.reserved.get(endpointId) ?? 0) + 1);
    this.reservedCount++;
  }

  unreserve(endpointIds: Iterable<string>): void {
    for (const id of endpointIds) {
      const n = (this.reserved.get(id) ?? 1) - 1;
      if (n <= 0) this.reserved.delete(id);
      else this.reserved.set(id, n);
      this.reservedCount--;
    }
  }

  /** A delivery was launched: it counts against the node until `finish`. */
  begin(): void {
    this.runningCount++;
  }

  finish(): void {
    this.runningCount--;
  }

  /** Take a slot of the endpoint, waiting for one when all are taken. */
  async acquire(endpointId: string): Promise<void> {
    const n = this.inFlight.get(endpointId) ?? 0;
    if (n < this.perEndpoint) {
      this.inFlight.set(endpointId, n + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const queue = this.waiting.get(endpointId) ?? [];
      queue.push(resolve);
      this.waiting.set(endpointId, queue);
    });
  }

  /** Give the slot back (to the next waiter, if any). Returns true when the endpoint is down to `refillAt`. */
  release(endpointId: string): boolean {
    const queue = this.waiting.get(endpointId);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(endpointId);
    if (next) {
      // Straight to the next waiter; the in-flight count stays the same.
      next();
    } else {
      const n = (this.inFlight.get(endpointId) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(endpointId);
      else this.inFlight.set(endpointId, n);
    }
    return this.load(endpointId) === this.refillAt;
  }
}
