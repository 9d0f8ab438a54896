/** `/v1/accounts`: the platform's connected accounts. Updates emit `account.updated`; DELETE deauthorizes. */

import { Hono } from 'hono';
import { toUnixSeconds } from '../../clock.js';
import { newId } from '../../ids.js';
import {
  ACCOUNT_TYPES,
  type AccountType,
  mergeHash,
  newAccountObject,
  previousAttributes,
} from '../../objects/account.js';
import { DEAUTHORIZED_EVENT } from '../../routing/routing.js';
import { publishEvent } from '../../services/publish.js';
import type { AccountRecord, JsonObject } from '../../store/types.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalidParam, noSuch } from '../errors.js';
import { listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';
import { publishDeps } from './events.js';

/** Nested hashes a caller may set, merged the way Stripe merges them. */
const HASH_FIELDS = ['business_profile', 'company', 'individual', 'settings', 'tos_acceptance'] as const;
/**
 * Switchboard extension: fields Stripe computes itself, writable here so a
 * developer can move an account through onboarding and see `account.updated`.
 */
const SIMULATED_FIELDS = ['charges_enabled', 'payouts_enabled', 'details_submitted'] as const;

const CREATE_PARAMS = [
  'type',
  'email',
  'country',
  'metadata',
  'business_type',
  'default_currency',
  'capabilities',
  ...HASH_FIELDS,
];
const UPDATE_PARAMS = [
  'email',
  'metadata',
  'business_type',
  'default_currency',
  'capabilities',
  'requirements',
  ...HASH_FIELDS,
  ...SIMULATED_FIELDS,
];

const BUSINESS_TYPES = ['individual', 'company', 'non_profit', 'government_entity'] as const;

/** `capabilities[card_payments][requested]=true` → `{card_payments: 'active'}` (Switchboard activates at once). */
function capabilityChanges(p: Params): Record<string, 'active' | null> | undefined {
  const raw = p.object('capabilities');
  if (!raw) return undefined;
  const out: Record<string, 'active' | null> = {};
  for (const [name, value] of Object.entries(raw)) {
    const sub = new Params(
      typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {},
      ['requested'],
      `capabilities[${name}]`,
    );
    const requested = sub.bool('requested');
    if (requested === undefined)
      throw invalidParam(sub.path('requested'), 'Missing requested: true or false.');
    out[name] = requested ? 'active' : null;
  }
  return out;
}

function applyUpdate(object: JsonObject, p: Params): JsonObject {
  let next: JsonObject = { ...object };
  const email = p.string('email', { maxLength: 800 });
  if (email !== undefined) next['email'] = email || null;
  const businessType = p.string('business_type');
  if (businessType !== undefined) {
    if (businessType && !(BUSINESS_TYPES as readonly string[]).includes(businessType)) {
      throw invalidParam(
        'business_type',
        `Invalid business_type: must be one of ${BUSINESS_TYPES.join(', ')}.`,
      );
    }
    next['business_type'] = businessType || null;
  }
  const currency = p.string('default_currency');
  if (currency) next['default_currency'] = currency.toLowerCase();
  for (const field of HASH_FIELDS) {
    const v = p.object(field);
    if (v) next[field] = mergeHash((next[field] as JsonObject | null) ?? {}, v);
  }
  if (p.has('metadata')) {
    next['metadata'] = applyMetadata((next['metadata'] as Record<string, string>) ?? {}, p.metadata());
  }
  const caps = capabilityChanges(p);
  if (caps) {
    const current = { ...((next['capabilities'] as Record<string, string>) ?? {}) };
    for (const [name, state] of Object.entries(caps)) {
      if (state) current[name] = state;
      else delete current[name];
    }
    next['capabilities'] = current;
  }
  for (const field of SIMULATED_FIELDS) {
    const v = p.bool(field);
    if (v !== undefined) next[field] = v;
  }
  const req = p.object('requirements');
  if (req) next = { ...next, requirements: mergeHash((next['requirements'] as JsonObject) ?? {}, req) };
  return next;
}

export function accountRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  async function connected(id: string): Promise<AccountRecord> {
    const account = await rt.store.getAccount(id);
    if (!account || account.platformId !== rt.platform.id || account.deauthorizedAt !== null) {
      throw noSuch('account', id);
    }
    return account;
  }

  app.post('/', async (c) => {
    const p = new Params(c.get('params'), CREATE_PARAMS);
    const type = p.string('type', { required: true })!;
    if (!(ACCOUNT_TYPES as readonly string[]).includes(type)) {
      throw invalidParam('type', `Invalid type: must be one of ${ACCOUNT_TYPES.join(', ')}.`);
    }
    const country = p.string('country');
    if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) {
      throw invalidParam('country', 'Invalid country: use a two-letter ISO code such as US.');
    }
    const now = rt.clock();
    const id = newId('acct', 16);
    const base = newAccountObject({
      id,
      type: type as AccountType,
      createdUnix: toUnixSeconds(now),
      ...(country ? { country: country.toUpperCase() } : {}),
    }) as unknown as JsonObject;
    const object = applyUpdate(base, p);
    await rt.store.createAccount({
      id,
      platformId: rt.platform.id,
      object,
      createdAt: now,
      deauthorizedAt: null,
    });
    return c.json(object);
  });

  app.get('/', async (c) => {
    const p = new Params(c.get('params'), [...PAGE_PARAMS]);
    const page = await rt.store.listAccounts(rt.platform.id, pageQuery(p));
    return c.json(listObject('/v1/accounts', page, (a) => a.object));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json((await connected(c.req.param('id'))).object);
  });

  app.post('/:id', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), UPDATE_PARAMS);
    const account = await connected(c.req.param('id'));
    const next = applyUpdate(account.object, p);
    const prev = previousAttributes(account.object, next);
    if (Object.keys(prev).length === 0) return c.json(account.object);
    await rt.store.updateAccount(account.id, next);
    await publishEvent(publishDeps(rt), {
      accountId: account.id,
      livemode: caller.livemode,
      type: 'account.updated',
      object: next,
      previousAttributes: prev,
      apiVersion: rt.defaultApiVersion,
      requestId: c.get('requestId'),
      idempotencyKey: c.req.header('idempotency-key') ?? null,
    });
    return c.json(next);
  });

  // The account disconnects the platform: the event goes out, then the platform loses the account.
  app.delete('/:id', async (c) => {
    const caller = c.get('caller');
    new Params(c.get('params'), []);
    const account = await connected(c.req.param('id'));
    await rt.store.updateAccount(account.id, account.object, rt.clock());
    await publishEvent(publishDeps(rt), {
      accountId: account.id,
      livemode: caller.livemode,
      type: DEAUTHORIZED_EVENT,
      object: { id: rt.platform.applicationId, object: 'application', name: rt.platform.name },
      apiVersion: rt.defaultApiVersion,
      requestId: c.get('requestId'),
      idempotencyKey: c.req.header('idempotency-key') ?? null,
      link: { platformId: rt.platform.id, connected: false },
    });
    return c.json({ id: account.id, object: 'account', deleted: true });
  });

  return app;
}
