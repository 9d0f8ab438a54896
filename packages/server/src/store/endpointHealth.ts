/** An endpoint's health from a batch of attempt results, as both engines record it. Pure. */

import type { AttemptResult } from './types.js';

/** What a batch of results says of one endpoint's health. */
export interface EndpointHealth {
  /** The latest 2xx in the batch. */
  ok: number | null;
  /** The earliest failure after `ok` (after nothing, when there is no `ok`). */
  fail: number | null;
}

/**
 * Each endpoint's health from a batch of results, sorted by endpoint id (so
 * concurrent batches lock shared rows in one order). Any attempt counts, even
 * a stale node's or a resend's: this is about the endpoint, not the delivery.
 * The store sets `lastSuccessAt` from `ok` and starts or clears `failingSince`.
 */
export function endpointHealth(results: AttemptResult[]): Array<[string, EndpointHealth]> {
  const ok = new Map<string, number>();
  const succeeded = ({ outcome }: AttemptResult) =>
    outcome.kind === 'delivered' || (outcome.kind === 'manual' && outcome.ok);
  for (const r of results) {
    if (!succeeded(r)) continue;
    const prev = ok.get(r.attempt.endpointId);
    if (prev === undefined || r.attempt.attemptedAt > prev)
      ok.set(r.attempt.endpointId, r.attempt.attemptedAt);
  }
  const health = new Map<string, EndpointHealth>();
  for (const r of results) {
    const id = r.attempt.endpointId;
    const entry = health.get(id) ?? { ok: ok.get(id) ?? null, fail: null };
    health.set(id, entry);
    if (succeeded(r)) continue;
    const at = r.attempt.attemptedAt;
    if ((entry.ok === null || at > entry.ok) && (entry.fail === null || at < entry.fail)) entry.fail = at;
  }
  return [...health].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
