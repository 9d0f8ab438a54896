/**
 * The claim policy: when this node claims due deliveries, how many, which
 * endpoints it skips, and whether a fresh publish may go straight to its send
 * queue or must wait behind older due work.
 *
 * No IO: it reads the slot accounting and the time it is given (the engine's
 * clock, never the machine's), so a test can drive it step by step.
 *
 * - A claim is made when one is needed (a publish, a finished claim that came
 *   back full, an endpoint down to half its slots, the node down by an eighth)
 *   and at least once every `surveyEveryMs` whatever the traffic: the survey,
 *   a deep claim skipping every endpoint at least half busy, which finds
 *   retries coming due, other nodes' publishes and endpoints behind a busy
 *   endpoint's backlog.
 * - Other claims skip only endpoints at their bound; with any skipped they are
 *   shallow (the endpoints among the oldest due deliveries), else deep.
 * - An endpoint is *behind* when a claim may have left due deliveries of it
 *   (it was skipped at its bound, or filled its cap): publishes for it are
 *   stored for a claim instead of handed over, so fresh events cannot keep
 *   its slots and starve its due retries. A deep claim that got less than it
 *   asked for clears that.
 */

import type { Slots } from './slots.js';

/** At most this many deliveries in one claim: a claim is one transaction, and results wait behind it. */
export const MAX_CLAIM = 200;

export interface ClaimPlan {
  limit: number;
  excludeEndpointIds: string[];
  /** Deep: every endpoint with pending deliveries is looked at (see ClaimOptions.shallow). */
  deep: boolean;
  survey: boolean;
}

/** What a publish may hand to this node now (intake.ts). */
export interface Admission {
  /** Endpoints given a reserved slot: their deliveries are stored leased to this node and sent at once. */
  taken: Set<string>;
  /** A claim should follow now: an endpoint behind is running low. */
  claimNow: boolean;
}

export class ClaimPolicy {
  private readonly behind = new Set<string>();
  // The node as a whole is behind: a publish found every slot taken and stored its deliveries for a claim.
  private nodeBehind = false;
  private claimNeeded = true;
  private lastSurveyAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly slots: Slots,
    private readonly surveyEveryMs: number,
  ) {}

  /** Something may be due that this node could take now. */
  needClaim(): void {
    this.claimNeeded = true;
  }

  get wantsClaim(): boolean {
    return this.claimNeeded;
  }

  /** Milliseconds from `now` until the next survey is due (0 when it is). */
  surveyDueIn(now: number): number {
    return Math.max(0, this.lastSurveyAt + this.surveyEveryMs - now);
  }

  /**
   * The claim to make now, or null when none is worth making. `force` (a
   * test's step) claims whatever the node has room for.
   */
  plan(now: number, force = false): ClaimPlan | null {
    const survey = !force && this.surveyDueIn(now) === 0;
    if (!force && !survey && !this.claimNeeded) return null;
    this.claimNeeded = false;
    const room = this.slots.free;
    const limit = force ? room : Math.min(room, MAX_CLAIM);
    // With no room the survey stays due: it runs as soon as a slot frees.
    if (limit <= 0) return null;
    if (survey) this.lastSurveyAt = now;
    const excludeEndpointIds = this.slots.loadedAtLeast(
      survey ? Math.max(1, this.slots.refillAt) : this.slots.perEndpoint,
    );
    return { limit, excludeEndpointIds, deep: survey || excludeEndpointIds.length === 0, survey };
  }

  /** After a claim: which endpoints may still have due deliveries it did not take. */
  noteClaim(plan: ClaimPlan, claimedEndpointIds: readonly string[]): void {
    const { perEndpoint } = this.slots;
    const taken = new Map<string, number>();
    for (const id of claimedEndpointIds) taken.set(id, (taken.get(id) ?? 0) + 1);
    // Skipped at their bound: they may have due deliveries the claim did not look at.
    for (const id of plan.excludeEndpointIds) if (this.slots.load(id) >= perEndpoint) this.behind.add(id);
    for (const [id, n] of taken) if (n >= perEndpoint) this.behind.add(id);
    // A full claim may have left more due; one that got less took everything claimable for now.
    if (claimedEndpointIds.length === plan.limit) this.claimNeeded = true;
    // A deep claim that got less than it asked for saw every due delivery of the endpoints it did not skip.
    else if (plan.deep) {
      this.nodeBehind = false;
      const skipped = new Set(plan.excludeEndpointIds);
      for (const id of this.behind)
        if (!skipped.has(id) && (taken.get(id) ?? 0) < perEndpoint) this.behind.delete(id);
    }
  }

  /**
   * Which of a publish's endpoints get a reserved slot. What is not taken is
   * stored for a claim, and is then older than what later publishes bring: the
   * endpoint (or the node) is behind until a claim catches up, so fresh events
   * cannot overtake it indefinitely.
   */
  admit(endpointIds: readonly string[]): Admission {
    const taken = new Set<string>();
    let claimNow = false;
    for (const id of endpointIds) {
      if (this.nodeBehind || this.slots.free <= 0) {
        this.nodeBehind = true;
        break;
      }
      if (taken.has(id)) continue;
      if (this.slots.load(id) >= this.slots.perEndpoint) {
        this.behind.add(id);
        continue;
      }
      if (this.behind.has(id)) {
        // Running low: claim now. Otherwise the refill claim at half load comes soon enough.
        if (this.slots.load(id) < this.slots.refillAt) claimNow = true;
        continue;
      }
      this.slots.reserve(id);
      taken.add(id);
    }
    if (claimNow) this.claimNeeded = true;
    return { taken, claimNow };
  }
}
