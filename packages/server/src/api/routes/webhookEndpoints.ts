/** `/v1/webhook_endpoints`: Stripe's API, plus `roll_secret` and the attempt log (Switchboard extensions). */

import { Hono } from 'hono';
import { checkTargetUrl } from '../../delivery/targetGuard.js';
import { newId, randomToken } from '../../ids.js';
import { attemptForApi } from '../../objects/deliveryAttempt.js';
import {
  endpointForApi,
  MAX_ACTIVE_SECRETS,
  MAX_ENABLED_EVENTS,
  MAX_ENDPOINTS_PER_ACCOUNT,
  MAX_URL_LENGTH,
} from '../../objects/webhookEndpoint.js';
import type { EndpointPatch, EndpointRecord, EndpointSecret } from '../../store/types.js';
import { isStripeApiVersion, LATEST_API_VERSION, STRIPE_API_VERSIONS } from '../../stripe/apiVersions.js';
import { isStripeEventType } from '../../stripe/eventTypes.js';
import { closestName } from '../../stripe/suggest.js';
import type { ApiEnv, Caller, Runtime } from '../context.js';
import { invalid, invalidParam, noSuch, unknownEventType } from '../errors.js';
import { listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';

/** Longest overlap a rolled secret may keep signing (Stripe's dashboard offers up to 24 h). */
export const MAX_ROLL_OVERLAP_S = 24 * 60 * 60;

export const newEndpointSecret = (): string => `whsec_${randomToken(32)}`;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const URL_FORBIDDEN = /[\u0000-\u0020\u007f-\u009f]/;

function validUrl(rt: Runtime, url: string): string {
  if (url.length > MAX_URL_LENGTH) {
    throw invalidParam(
      'url',
      `Invalid URL: at most ${MAX_URL_LENGTH} characters (got ${url.length}).`,
      'url_invalid',
    );
  }
  // new URL() would quietly drop tabs and newlines and encode spaces: a URL is refused with them instead.
  if (URL_FORBIDDEN.test(url)) {
    throw invalidParam('url', 'Invalid URL: it contains spaces or control characters.', 'url_invalid');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidParam(
      'url',
      `Invalid URL: ${url}. URLs must be absolute and use http or https.`,
      'url_invalid',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidParam('url', `Invalid URL: ${url}. URLs must use http or https.`, 'url_invalid');
  }
  // Names are checked again at delivery time, when they resolve; literal private addresses can be refused now.
  const guard = checkTargetUrl(url, rt.allowPrivateTargets);
  if (!guard.ok) {
    throw invalidParam(
      'url',
      `Invalid URL: ${url}: ${guard.error}. Start the server with --allow-private-targets to deliver to private or loopback addresses.`,
      'url_invalid',
    );
  }
  return url;
}

/** `enabled_events`: `*` or Stripe's event types, so that a typo is a 400 and not an endpoint that never fires. */
function validEvents(events: string[], param = 'enabled_events'): string[] {
  if (events.length === 0) throw invalidParam(param, `${param} must name at least one event type or *.`);
  if (events.length > MAX_ENABLED_EVENTS)
    throw invalidParam(
      param,
      `${param} may name at most ${MAX_ENABLED_EVENTS} event types (got ${events.length}).`,
    );
  events.forEach((e, i) => {
    if (e !== '*' && !isStripeEventType(e)) throw unknownEventType(`${param}[${i}]`, e);
  });
  return [...new Set(events)];
}

/** `api_version`: one of the versions Stripe has published. */
function validApiVersion(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!isStripeApiVersion(value)) {
    const near = closestName(value, STRIPE_API_VERSIONS);
    throw invalidParam(
      'api_version',
      `Invalid api_version: '${value}' is not an API version Stripe has published.${near ? ` Did you mean '${near}'?` : ` The latest is '${LATEST_API_VERSION}'.`}`,
    );
  }
  return value;
}

async function ownEndpoint(rt: Runtime, caller: Caller, id: string): Promise<EndpointRecord> {
  const ep = await rt.store.getEndpoint(id);
  // A listen session's endpoint belongs to that session: the API neither shows nor changes it.
  if (
    !ep ||
    ep.listenKey !== null ||
    ep.ownerAccountId !== caller.accountId ||
    ep.livemode !== caller.livemode
  ) {
    throw noSuch('webhook endpoint', id);
  }
  return ep;
}

export function webhookEndpointRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const show = (ep: EndpointRecord, withSecret = false) =>
    endpointForApi(ep, rt.platform.applicationId, rt.disableAfterMs, withSecret);

  app.post('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [
      'url',
      'enabled_events',
      'connect',
      'api_version',
      'description',
      'metadata',
    ]);
    const url = validUrl(rt, p.string('url', { required: true })!);
    const enabledEvents = validEvents(p.stringArray('enabled_events', { required: true })!);
    const connect = p.bool('connect') ?? false;
    if (connect && caller.connectedAccount) {
      throw invalidParam(
        'connect',
        'Only a platform can create Connect endpoints; remove the Stripe-Account header.',
      );
    }
    const count = await rt.store.countEndpoints(caller.accountId, caller.livemode);
    if (count >= MAX_ENDPOINTS_PER_ACCOUNT) {
      throw invalid(
        `You have reached the maximum of ${MAX_ENDPOINTS_PER_ACCOUNT} test or live webhook endpoints on this account.`,
        'webhook_endpoint_limit_reached',
      );
    }
    const ep: EndpointRecord = {
      id: newId('we'),
      ownerAccountId: caller.accountId,
      livemode: caller.livemode,
      connect,
      url,
      enabledEvents,
      status: 'enabled',
      disabledReason: null,
      apiVersion: validApiVersion(p.string('api_version', { maxLength: 64 })),
      description: p.string('description', { maxLength: 5000 }) || null,
      metadata: applyMetadata({}, p.metadata()),
      secrets: [{ secret: newEndpointSecret(), expiresAt: null }],
      createdAt: rt.clock(),
      lastSuccessAt: null,
      failingSince: null,
      listenKey: null,
    };
    await rt.store.createEndpoint(ep);
    return c.json(show(ep, true));
  });

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS]);
    const page = await rt.store.listEndpoints(caller.accountId, caller.livemode, pageQuery(p));
    return c.json(listObject('/v1/webhook_endpoints', page, (ep) => show(ep)));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(show(await ownEndpoint(rt, c.get('caller'), c.req.param('id'))));
  });

  app.post('/:id', async (c) => {
    const p = new Params(c.get('params'), ['url', 'enabled_events', 'description', 'metadata', 'disabled']);
    const ep = await ownEndpoint(rt, c.get('caller'), c.req.param('id'));
    const patch: EndpointPatch = {};
    const url = p.string('url');
    if (url !== undefined) patch.url = validUrl(rt, url);
    const events = p.stringArray('enabled_events');
    if (events !== undefined) patch.enabledEvents = validEvents(events);
    const description = p.string('description', { maxLength: 5000 });
    if (description !== undefined) patch.description = description || null;
    if (p.has('metadata')) patch.metadata = applyMetadata(ep.metadata, p.metadata());
    const disabled = p.bool('disabled');
    if (disabled === true && ep.status !== 'disabled') {
      patch.status = 'disabled';
      patch.disabledReason = 'manual';
    } else if (disabled === false && ep.status !== 'enabled') {
      patch.status = 'enabled';
      patch.disabledReason = null;
    }
    const updated = await rt.store.updateEndpoint(ep.id, patch);
    if (!updated) throw noSuch('webhook endpoint', ep.id);
    return c.json(show(updated));
  });

  app.delete('/:id', async (c) => {
    new Params(c.get('params'), []);
    const ep = await ownEndpoint(rt, c.get('caller'), c.req.param('id'));
    await rt.store.deleteEndpoint(ep.id);
    return c.json({ id: ep.id, object: 'webhook_endpoint', deleted: true });
  });

  // Switchboard extension: issue a new secret; the old one keeps signing for `expires_in` seconds (≤ 24 h).
  app.post('/:id/roll_secret', async (c) => {
    const p = new Params(c.get('params'), ['expires_in']);
    const ep = await ownEndpoint(rt, c.get('caller'), c.req.param('id'));
    const overlapS = p.int('expires_in', { min: 0, max: MAX_ROLL_OVERLAP_S }) ?? MAX_ROLL_OVERLAP_S;
    const now = rt.clock();
    const expiresAt = now + overlapS * 1000;
    const secrets: EndpointSecret[] = [{ secret: newEndpointSecret(), expiresAt: null }];
    if (overlapS > 0) {
      for (const s of ep.secrets) {
        if (s.expiresAt === null) secrets.push({ secret: s.secret, expiresAt });
        else if (s.expiresAt > now) secrets.push(s);
      }
    }
    // Each active secret adds a v1 to every delivery's signature header: bounded.
    if (secrets.length > MAX_ACTIVE_SECRETS) {
      throw invalidParam(
        'expires_in',
        `At most ${MAX_ACTIVE_SECRETS} secrets may sign at once, and ${secrets.length - 1} do now: roll with expires_in=0 to end the old ones at once, or wait until one expires.`,
      );
    }
    const updated = await rt.store.updateEndpoint(ep.id, { secrets });
    if (!updated) throw noSuch('webhook endpoint', ep.id);
    return c.json(show(updated, true));
  });

  // Switchboard extension: the attempt log of one endpoint, newest first.
  app.get('/:id/delivery_attempts', async (c) => {
    const p = new Params(c.get('params'), [...PAGE_PARAMS]);
    const ep = await ownEndpoint(rt, c.get('caller'), c.req.param('id'));
    const page = await rt.store.listAttempts({ ...pageQuery(p), endpointId: ep.id });
    return c.json(listObject(`/v1/webhook_endpoints/${ep.id}/delivery_attempts`, page, attemptForApi));
  });

  return app;
}
