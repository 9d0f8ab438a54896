/**
 * Intake: a publish's fresh deliveries handed to this node's engine without
 * a claim query. Before the event is stored, `offer` asks the claim policy
 * which endpoints may take one now and reserves their slots; those deliveries
 * are stored already leased to this node (`leaseFor`), and after the commit
 * `start` sends them. What is not taken is stored for a claim. The publish
 * service passes the leases through to the store and knows nothing of slots.
 */

import type { DeliveryLease, EndpointRecord, NewDelivery } from '../store/types.js';
import type { Launch } from './engine.js';

/** A publish's hand-off, between `offer` and the commit. */
export interface HandOff {
  /** How to store a delivery of this endpoint: leased to this node, or (undefined) for a claim. */
  leaseFor(endpointId: string): DeliveryLease | undefined;
  /** The event and its deliveries are committed: send the leased ones. */
  start(stored: StoredPublish): void;
  /** The publish failed: give the slots back. */
  cancel(): void;
}

/** What a publish stored: its deliveries, their endpoints and the event body. */
export interface StoredPublish {
  deliveries: readonly NewDelivery[];
  endpoints: ReadonlyMap<string, EndpointRecord>;
  body: string;
  livemode: boolean;
  now: number;
}

export interface Intake {
  /** null when nothing can be taken now: every endpoint's deliveries are stored for a claim. */
  offer(endpointIds: readonly string[], now: number): HandOff | null;
}

export interface IntakeParts {
  owner: string;
  leaseMs: number;
  /** Slots to reserve and the policy that says which endpoints may have one. */
  admit(endpointIds: readonly string[]): Set<string>;
  unreserve(endpointIds: Iterable<string>): void;
  /** Whether the engine is running and not stopping: a stopped engine takes nothing. */
  accepting(): boolean;
  launch: Launch;
  /** A cancelled hand-off: a claim should pick its deliveries up. */
  needClaim(): void;
}

export function createIntake(parts: IntakeParts): Intake {
  return {
    offer(endpointIds, now) {
      if (!parts.accepting()) return null;
      const taken = parts.admit(endpointIds);
      if (taken.size === 0) return null;
      const lease: DeliveryLease = { owner: parts.owner, until: now + parts.leaseMs };
      let settled = false;
      return {
        leaseFor: (endpointId) => (taken.has(endpointId) ? lease : undefined),
        start(stored) {
          if (settled) return;
          settled = true;
          parts.unreserve(taken);
          // Stopped meanwhile: the deliveries stay leased to this node and are claimed again when the lease ends.
          if (!parts.accepting()) return;
          for (const d of stored.deliveries) {
            if (d.lease === undefined || !taken.has(d.endpointId)) continue;
            const endpoint = stored.endpoints.get(d.endpointId);
            if (endpoint) parts.launch(firstAttempt(d, endpoint, stored), false);
          }
        },
        cancel() {
          if (settled) return;
          settled = true;
          parts.unreserve(taken);
          parts.needClaim();
        },
      };
    },
  };
}

/** A delivery stored leased by its publish, as a claim would have returned it. */
function firstAttempt(d: NewDelivery, endpoint: EndpointRecord, stored: StoredPublish) {
  return {
    id: d.id,
    eventId: d.eventId,
    endpointId: d.endpointId,
    attempt: 1,
    createdAt: d.nextAttemptAt,
    livemode: stored.livemode,
    url: endpoint.url,
    secrets: endpoint.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > stored.now)
      .map((s) => s.secret),
    body: stored.body,
    apiVersion: endpoint.apiVersion,
    endpointLastSuccessAt: endpoint.lastSuccessAt,
    endpointFailingSince: endpoint.failingSince,
  };
}
