/**
 * Publishing an event: build it, route it, store it with its deliveries in
 * one transaction, and hand them to the delivery engine. The caller answers only after
 * this resolves, so an acknowledged event is durable.
 */

import { toUnixSeconds } from '../clock.js';
import type { Intake } from '../delivery/intake.js';
import { newSortableId } from '../ids.js';
import { buildEvent, type StripeEventShape, serializeEvent } from '../objects/event.js';
import { isConnected } from '../routing/connectionModes.js';
import { type AccountLink, candidateOwners, routeEvent } from '../routing/routing.js';
import type {
  AccountStore,
  EventEffect,
  JsonObject,
  NewDelivery,
  Store,
  StoredEvent,
} from '../store/types.js';

export interface PublishDeps {
  store: Pick<Store, 'getAccount' | 'listRoutableEndpoints' | 'appendEvent'>;
  clock: () => number;
  platformId: string;
  /**
   * This node's delivery engine: the deliveries it takes are sent as soon as the event is committed, without
   * waiting for a claim (intake.ts).
   */
  intake?: Intake;
  /**
   * Called after the event is stored, to start deliveries now rather than at the next survey: `unclaimed` when
   * ordinary deliveries were stored without an intake having seen them, `listen` when some go to listen
   * sessions.
   */
  onPublished?: (event: StoredEvent, waiting: { unclaimed: boolean; listen: boolean }) => void;
}

export interface PublishInput {
  /** The account the event belongs to: the platform or one of its connected accounts. */
  accountId: string;
  livemode: boolean;
  type: string;
  object: JsonObject;
  previousAttributes?: JsonObject | null;
  apiVersion: string;
  requestId: string | null;
  idempotencyKey: string | null;
  /** Override the link (used by deauthorization, which routes the event as the account leaves). */
  link?: AccountLink | null;
  /** The change the event records, committed with it (an account update, a deauthorization). */
  effect?: EventEffect;
}

/** Resolve how an account hangs off the platform: null for the platform itself. */
export async function accountLink(
  store: Pick<AccountStore, 'getAccount'>,
  platformId: string,
  accountId: string,
): Promise<AccountLink | null> {
  if (accountId === platformId) return null;
  const account = await store.getAccount(accountId);
  if (!account) throw new Error(`unknown account ${accountId}`);
  return {
    platformId: account.platformId,
    connected: isConnected(account.connectedModes),
    modes: account.connectedModes,
  };
}

export async function publishEvent(deps: PublishDeps, input: PublishInput): Promise<StoredEvent> {
  const now = deps.clock();
  const link =
    input.link !== undefined ? input.link : await accountLink(deps.store, deps.platformId, input.accountId);
  const endpoints = await deps.store.listRoutableEndpoints(candidateOwners(input.accountId, link));
  const routed = routeEvent(
    { accountId: input.accountId, livemode: input.livemode, type: input.type },
    link,
    endpoints,
  );
  // Listen-session deliveries are marked now, while the endpoints are in hand,
  // so that claims tell them apart without a join. They are not webhook
  // endpoints to the API: pending_webhooks counts the ordinary ones.
  const listenEndpoints = new Set(endpoints.filter((ep) => ep.listenKey !== null).map((ep) => ep.id));
  const ordinary = routed.filter((id) => !listenEndpoints.has(id));
  const event: StripeEventShape = buildEvent({
    id: newSortableId('evt', now),
    type: input.type,
    account: link ? input.accountId : null,
    apiVersion: input.apiVersion,
    createdUnix: toUnixSeconds(now),
    object: input.object,
    previousAttributes: input.previousAttributes ?? null,
    livemode: input.livemode,
    pendingWebhooks: ordinary.length,
    requestId: input.requestId,
    idempotencyKey: input.idempotencyKey,
  });
  const record = {
    id: event.id,
    accountId: input.accountId,
    livemode: input.livemode,
    type: input.type,
    createdUnix: event.created,
    body: serializeEvent(event),
    requestId: input.requestId,
    idempotencyKey: input.idempotencyKey,
  };
  const handOff = ordinary.length > 0 ? (deps.intake?.offer(ordinary, now) ?? null) : null;
  let started = false;
  try {
    const deliveries: NewDelivery[] = routed.map((endpointId) => {
      const lease = handOff?.leaseFor(endpointId);
      return {
        id: newSortableId('wd', now),
        eventId: event.id,
        endpointId,
        nextAttemptAt: now,
        listen: listenEndpoints.has(endpointId),
        ...(lease ? { lease } : {}),
      };
    });
    await deps.store.appendEvent(record, deliveries, input.effect);
    if (handOff) {
      started = true;
      handOff.start({
        deliveries,
        endpoints: new Map(endpoints.map((ep) => [ep.id, ep])),
        body: record.body,
        livemode: input.livemode,
        now,
      });
    }
  } finally {
    // Whatever failed before the start (the append, most likely): give the slots back. Deliveries already
    // stored leased are then sent when their lease ends.
    if (!started) handOff?.cancel();
  }
  const stored: StoredEvent = { ...record, pendingWebhooks: ordinary.length };
  deps.onPublished?.(stored, {
    // With an intake, the engine has already decided whether a claim is needed for what it did not take.
    unclaimed: deps.intake === undefined && ordinary.length > 0,
    listen: listenEndpoints.size > 0 && routed.some((id) => listenEndpoints.has(id)),
  });
  return stored;
}
