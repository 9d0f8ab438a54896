/**
 * The Connect routing rules: which webhook endpoints an event goes to.
 * Pure: the caller loads the endpoints and the account's link to its platform.
 * See docs/routing.md and the reference rules this implements:
 *
 * 1. Account endpoints (`connect: false`) of the event's own account, same mode.
 * 2. If the account is a connected account of a platform (still connected, or
 *    this is the `account.application.deauthorized` event itself), the
 *    platform's Connect endpoints, by the modes the account is connected in
 *    (connectionModes.ts): live only → its live and test events to live
 *    Connect endpoints; test only → test events to test Connect endpoints;
 *    both → live events to live ones, test events to both.
 * 3. In every case the endpoint is enabled and its `enabled_events` hold `*`
 *    or the type.
 */

import { type ConnectedModes, connectEndpointReceives } from './connectionModes.js';
import { matchesEnabledEvents } from './eventTypes.js';

export const DEAUTHORIZED_EVENT = 'account.application.deauthorized';

export interface RoutedEvent {
  accountId: string;
  livemode: boolean;
  type: string;
}

/** How the event's account hangs off a platform; null when the account is a platform itself. */
export interface AccountLink {
  platformId: string;
  /** false once the account disconnected the platform in every mode. */
  connected: boolean;
  /** The modes it is connected in; for its deauthorization event, those it had until then. */
  modes: ConnectedModes;
}

export interface RoutableEndpoint {
  id: string;
  ownerAccountId: string;
  livemode: boolean;
  connect: boolean;
  status: 'enabled' | 'disabled';
  enabledEvents: readonly string[];
}

/** Why an endpoint does or does not get an event: for tests and for explaining routing to users. */
export type RouteDecision =
  | { deliver: true; scope: 'account' | 'connect' }
  | {
      deliver: false;
      reason: 'disabled' | 'not_subscribed' | 'other_account' | 'mode_mismatch' | 'not_connected';
    };

/** Decide for one endpoint. */
export function routeDecision(
  event: RoutedEvent,
  link: AccountLink | null,
  ep: RoutableEndpoint,
): RouteDecision {
  let scope: 'account' | 'connect';
  if (!ep.connect) {
    if (ep.ownerAccountId !== event.accountId) return { deliver: false, reason: 'other_account' };
    if (ep.livemode !== event.livemode) return { deliver: false, reason: 'mode_mismatch' };
    scope = 'account';
  } else {
    if (link === null || ep.ownerAccountId !== link.platformId)
      return { deliver: false, reason: 'other_account' };
    if (!link.connected && event.type !== DEAUTHORIZED_EVENT)
      return { deliver: false, reason: 'not_connected' };
    if (!connectEndpointReceives(link.modes, event.livemode, ep.livemode))
      return { deliver: false, reason: 'mode_mismatch' };
    scope = 'connect';
  }
  if (ep.status !== 'enabled') return { deliver: false, reason: 'disabled' };
  if (!matchesEnabledEvents(event.type, ep.enabledEvents))
    return { deliver: false, reason: 'not_subscribed' };
  return { deliver: true, scope };
}

/**
 * The endpoints an event is delivered to, in the order given.
 *
 * @example
 * routeEvent({ accountId: 'acct_c', livemode: false, type: 'payout.failed' },
 *            { platformId: 'acct_p', connected: true, modes: { test: true, live: false } }, endpoints) // ['we_…', …]
 */
export function routeEvent(
  event: RoutedEvent,
  link: AccountLink | null,
  endpoints: readonly RoutableEndpoint[],
): string[] {
  const ids: string[] = [];
  for (const ep of endpoints) {
    if (routeDecision(event, link, ep).deliver) ids.push(ep.id);
  }
  return ids;
}

/** The accounts whose endpoints can receive events of this account: itself, and its platform. */
export function candidateOwners(accountId: string, link: AccountLink | null): string[] {
  return link ? [accountId, link.platformId] : [accountId];
}
