/**
 * Resending an event now (`POST /v1/events/:id/retry`, what `stripe events
 * resend` calls), outside the schedule: to one endpoint, or to every endpoint
 * it was routed to and the caller's connected listen session. Automatic
 * retries go on as scheduled; each resend is recorded as a manual attempt.
 */

import type { DeliveryEngine } from '../delivery/engine.js';
import { routeDecision } from '../routing/routing.js';
import type { Store, StoredEvent } from '../store/types.js';
import { accountLink } from './publish.js';

export interface ResendDeps {
  store: Pick<Store, 'getAccount' | 'getEndpoint' | 'listDeliveries' | 'findListenEndpoints' | 'getDelivery'>;
  platformId: string;
  clock: () => number;
  engine: Pick<DeliveryEngine, 'resend'>;
}

export interface ResendTarget {
  /** One endpoint; null for every endpoint the event was routed to, and the listen session below. */
  endpointId: string | null;
  /** The caller's listen session (`listenKeyFor`): resent to as well when no endpoint is named. */
  listenKey: string;
}

/** Why a resend to a named endpoint was refused (the API turns each into a 4xx naming `webhook_endpoint`). */
export type ResendRefusal = 'no_such_endpoint' | 'not_routed' | 'endpoint_disabled';

export async function resendEvent(
  deps: ResendDeps,
  event: StoredEvent,
  target: ResendTarget,
): Promise<{ refused: ResendRefusal } | { refused: null; sent: number }> {
  const { store } = deps;
  const link = await accountLink(store, deps.platformId, event.accountId);
  let endpointIds: string[];
  if (target.endpointId !== null) {
    const ep = await store.getEndpoint(target.endpointId);
    if (!ep) return { refused: 'no_such_endpoint' };
    // Whether this endpoint could ever receive this event, ignoring its filters: the routing rules.
    const decision = routeDecision(event, link ? { ...link, connected: true } : null, {
      ...ep,
      status: 'enabled',
      enabledEvents: ['*'],
    });
    if (!decision.deliver) return { refused: 'not_routed' };
    if (ep.status !== 'enabled') return { refused: 'endpoint_disabled' };
    endpointIds = [ep.id];
  } else {
    endpointIds = (await store.listDeliveries(event.id)).map((d) => d.endpointId);
    for (const ep of await store.findListenEndpoints(target.listenKey)) {
      if (ep.status === 'enabled' && routeDecision(event, link, ep).deliver && !endpointIds.includes(ep.id))
        endpointIds.push(ep.id);
    }
  }
  let sent = 0;
  for (const id of endpointIds) {
    const ep = await store.getEndpoint(id);
    if (ep?.status !== 'enabled') continue;
    const delivery = await store.getDelivery(event.id, ep.id);
    const now = deps.clock();
    await deps.engine.resend(
      {
        deliveryId: delivery?.id ?? null,
        eventId: event.id,
        endpointId: ep.id,
        url: ep.url,
        secrets: ep.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret),
        body: event.body,
        apiVersion: ep.apiVersion,
        livemode: event.livemode,
      },
      // Listen endpoints are reached through their websocket, not over HTTP.
      ep.listenKey === null ? 'webhook' : 'listen',
    );
    sent++;
  }
  return { refused: null, sent };
}
