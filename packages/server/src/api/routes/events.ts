/** `/v1/events`: Stripe's read API and `retry`, plus publishing (a Switchboard extension: Stripe creates its own events). */

import { type Context, Hono } from 'hono';
import { attemptForApi } from '../../objects/deliveryAttempt.js';
import { eventJsonForApi } from '../../objects/event.js';
import { keySeesAccount } from '../../routing/connectionModes.js';
import { isEventType, isTypePattern, toTypeFilter } from '../../routing/eventTypes.js';
import { publishEvent } from '../../services/publish.js';
import { resendEvent } from '../../services/resend.js';
import { listenKeyFor } from '../../sessions/listenHub.js';
import type { EventQuery, JsonObject, StoredEvent } from '../../store/types.js';
import type { ApiEnv, Caller, Runtime } from '../context.js';
import { ApiError, invalid, invalidParam, missingParam, noSuch, unknownParam } from '../errors.js';
import { createdRange, listJson, listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { Params } from '../params.js';

const isHash = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Connect events live in the connected account: visible only when acting as it, and in the key's mode. */
async function visibleEvent(rt: Runtime, caller: Caller, id: string): Promise<StoredEvent> {
  const event = await rt.store.getEvent(id);
  if (!event || event.accountId !== caller.accountId || event.livemode !== caller.livemode) {
    throw noSuch('event', id);
  }
  return event;
}

export function eventRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const show = (e: StoredEvent) => eventJsonForApi(e, e.pendingWebhooks);
  // Events go out as the text they are stored as (eventJsonForApi): never parsed and serialised again.
  const json = (c: Context<ApiEnv>, text: string) =>
    c.body(text, 200, { 'content-type': 'application/json' });

  // Switchboard extension: publish an event as the caller (or the connected account in Stripe-Account).
  app.post('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), ['type', 'data']);
    const type = p.string('type', { required: true })!;
    if (!isEventType(type)) {
      throw invalidParam('type', `Invalid event type: '${type}'. Event types look like 'account.updated'.`);
    }
    const data = p.object('data', { required: true })!;
    for (const key of Object.keys(data)) {
      if (key !== 'object' && key !== 'previous_attributes') throw unknownParam(`data[${key}]`);
    }
    if (data['object'] === undefined) throw missingParam('data[object]');
    if (!isHash(data['object'])) throw invalidParam('data[object]', 'data[object] must be an object.');
    const prev = data['previous_attributes'];
    if (prev !== undefined && !isHash(prev)) {
      throw invalidParam('data[previous_attributes]', 'data[previous_attributes] must be an object.');
    }
    const event = await publishEvent(publishDeps(rt), {
      accountId: caller.accountId,
      livemode: caller.livemode,
      type,
      object: data['object'],
      previousAttributes: prev ?? null,
      apiVersion: rt.defaultApiVersion,
      requestId: c.get('requestId'),
      idempotencyKey: c.req.header('idempotency-key') ?? null,
    });
    return json(c, show(event));
  });

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'type', 'types', 'created', 'delivery_success']);
    const type = p.string('type');
    const types = p.stringArray('types');
    if (type && types)
      throw invalid(
        'You may only specify one of these parameters: type, types.',
        'parameter_invalid',
        'types',
      );
    if (types && types.length > 20) throw invalidParam('types', 'types may name at most 20 event types.');
    const patterns = type ? [type] : (types ?? []);
    patterns.forEach((t, i) => {
      if (!isTypePattern(t))
        throw invalidParam(type ? 'type' : `types[${i}]`, `Invalid event type filter: '${t}'.`);
    });
    const created = createdRange(p);
    const deliverySuccess = p.bool('delivery_success');
    const query: EventQuery = {
      ...pageQuery(p),
      accountId: caller.accountId,
      livemode: caller.livemode,
      ...(patterns.length ? { types: toTypeFilter(patterns) } : {}),
      ...(created ? { created } : {}),
      ...(deliverySuccess !== undefined ? { deliverySuccess } : {}),
    };
    const page = await rt.store.listEvents(query);
    return json(c, listJson('/v1/events', page.hasMore, page.data.map(show)));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return json(c, show(await visibleEvent(rt, c.get('caller'), c.req.param('id'))));
  });

  // What `stripe events resend` calls. Resends now; automatic retries go on as scheduled.
  app.post('/:id/retry', async (c) => {
    const base = c.get('caller');
    const p = new Params(c.get('params'), ['webhook_endpoint', 'account']);
    const account = p.string('account');
    let caller = base;
    if (account && account !== base.accountId) {
      const acct = await rt.store.getAccount(account);
      // `account` reaches what `Stripe-Account` would, no more: a connected account only itself, and an
      // account the key may act as (never one that disconnected).
      if (!acct || acct.platformId !== rt.platform.id || base.connectedAccount !== null) {
        throw noSuch('account', account, 'account');
      }
      if (!keySeesAccount(acct.connectedModes, base.livemode)) {
        throw new ApiError(
          403,
          'permission_error',
          `The platform has no access to account '${account}' in this mode (it disconnected, or is connected in the other mode only).`,
          'account_invalid',
          'account',
        );
      }
      caller = { ...base, accountId: acct.id, connectedAccount: acct };
    }
    const event = await visibleEvent(rt, caller, c.req.param('id'));
    const endpointId = p.string('webhook_endpoint');
    const outcome = await resendEvent(
      { store: rt.store, platformId: rt.platform.id, clock: rt.clock, engine: rt.engine },
      event,
      // Without an endpoint: the caller's running `switchboard listen` session too, as `stripe events resend`.
      { endpointId: endpointId ?? null, listenKey: listenKeyFor(base.keyHash, base.accountId) },
    );
    if (outcome.refused === 'no_such_endpoint')
      throw noSuch('webhook endpoint', endpointId!, 'webhook_endpoint');
    if (outcome.refused === 'not_routed')
      throw invalidParam(
        'webhook_endpoint',
        `Webhook endpoint '${endpointId}' does not receive events of this account and mode.`,
      );
    if (outcome.refused === 'endpoint_disabled')
      throw invalidParam(
        'webhook_endpoint',
        `Webhook endpoint '${endpointId}' is disabled; enable it before resending.`,
      );
    return json(c, show((await rt.store.getEvent(event.id)) ?? event));
  });

  // Switchboard extension: the attempt log of one event, newest first.
  app.get('/:id/delivery_attempts', async (c) => {
    const p = new Params(c.get('params'), [...PAGE_PARAMS]);
    const event = await visibleEvent(rt, c.get('caller'), c.req.param('id'));
    const page = await rt.store.listAttempts({ ...pageQuery(p), eventId: event.id });
    return c.json(listObject(`/v1/events/${event.id}/delivery_attempts`, page, attemptForApi));
  });

  return app;
}

export function publishDeps(rt: Runtime) {
  return {
    store: rt.store,
    clock: rt.clock,
    platformId: rt.platform.id,
    intake: rt.engine.intake,
    onPublished: (_event: StoredEvent, waiting: { unclaimed: boolean; listen: boolean }) => {
      if (waiting.unclaimed || waiting.listen) rt.engine.wake();
    },
  };
}

/**
 * What an event a request causes records of it: the account it is in (the
 * caller's unless given), the key's mode, the version, the request and its
 * idempotency key.
 */
export function requestEventFields(rt: Runtime, c: Context<ApiEnv>, accountId = c.get('caller').accountId) {
  return {
    accountId,
    livemode: c.get('caller').livemode,
    apiVersion: rt.defaultApiVersion,
    requestId: c.get('requestId'),
    idempotencyKey: c.req.header('idempotency-key') ?? null,
  };
}
