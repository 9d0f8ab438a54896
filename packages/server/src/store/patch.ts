import type { AttemptResult, EndpointPatch, EndpointRecord } from './types.js';

/**
 * An endpoint after a patch. The reason follows the status when the patch
 * does not give one: disabling by hand is `manual`, enabling clears it.
 */
export function applyEndpointPatch(current: EndpointRecord, patch: EndpointPatch): EndpointRecord {
  const next: EndpointRecord = { ...current };
  if (patch.url !== undefined) next.url = patch.url;
  if (patch.enabledEvents !== undefined) next.enabledEvents = patch.enabledEvents;
  if (patch.description !== undefined) next.description = patch.description;
  if (patch.metadata !== undefined) next.metadata = patch.metadata;
  if (patch.secrets !== undefined) next.secrets = patch.secrets;
  if (patch.status !== undefined) {
    next.status = patch.status;
    if (patch.disabledReason === undefined) {
      next.disabledReason = patch.status === 'enabled' ? null : (current.disabledReason ?? 'manual');
    }
  }
  if (patch.disabledReason !== undefined) next.disabledReason = patch.disabledReason;
  return next;
}

/**
 * The latest 2xx per endpoint in a batch of results. Any success counts, even
 * a stale node's or a resend's: `lastSuccessAt` is about the endpoint's health,
 * not about the delivery.
 */
export function latestSuccesses(results: AttemptResult[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const { attempt, outcome } of results) {
    const ok = outcome.kind === 'delivered' || (outcome.kind === 'manual' && outcome.ok);
    if (!ok) continue;
    const prev = latest.get(attempt.endpointId);
    if (prev === undefined || attempt.attemptedAt > prev) latest.set(attempt.endpointId, attempt.attemptedAt);
  }
  return latest;
}
