import type { EndpointPatch, EndpointRecord } from './types.js';

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
