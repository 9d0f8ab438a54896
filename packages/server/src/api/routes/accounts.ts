/**
 * `/v1/accounts`: the platform's connected accounts, and `/v1/account`, the
 * caller's own. Updates emit `account.updated`; DELETE deauthorizes. Each
 * account is connected in the mode of the key that created it (or both, a
 * Switchboard extension): routing/connectionModes.ts has who sees and changes
 * what.
 */

import { type Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { toUnixSeconds } from '../../clock.js';
import { newId } from '../../ids.js';
import { ACCOUNT_TYPES, mergeHash, newAccountObject, platformAccountObject } from '../../objects/account.js';
import {
  type ControllerProperties,
  controllerForType,
  controllerObject,
  typeOfController,
  withDefaults,
} from '../../objects/accountController.js';
import { withCapabilityStatuses } from '../../objects/capability.js';
import {
  CONNECT_MODES,
  isConnected,
  keyChangesAccount,
  keySeesAccount,
  modesAfterDeauthorization,
  modesAtCreation,
} from '../../routing/connectionModes.js';
import { DEAUTHORIZED_EVENT } from '../../routing/routing.js';
import { publishAccountUpdate } from '../../services/accountUpdates.js';
import { publishEvent } from '../../services/publish.js';
import type { AccountRecord, JsonObject } from '../../store/types.js';
import type { ApiEnv, Caller, Runtime } from '../context.js';
import { ApiError, invalidParam, noSuch } from '../errors.js';
import { createdRange, listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';
import { publishDeps, requestEventFields } from './events.js';

/** Nested hashes a caller may set, merged the way Stripe merges them. */
const HASH_FIELDS = ['business_profile', 'company', 'individual', 'settings', 'tos_acceptance'] as const;
/**
 * Switchboard extension: fields Stripe computes itself, writable here so a
 * developer can move an account through onboarding and see `account.updated`.
 */
const SIMULATED_FIELDS = ['charges_enabled', 'payouts_enabled', 'details_submitted'] as const;

const CREATE_PARAMS = [
  'type',
  'controller',
  // Switchboard extension: the modes the account is connected in (default: the key's).
  'connect_mode',
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

/** `capabilities[card_payments][requested]=true` adds the capability (its status follows the requirements); `false` drops it. */
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
  // A requested capability is active only once nothing is due (objects/capability.ts).
  return withCapabilityStatuses(next as unknown as Stripe.Account) as unknown as JsonObject;
}

/** A connected account of the platform the caller sees (in the key's mode; a connected account sees itself). */
export async function visibleAccount(rt: Runtime, caller: Caller, id: string): Promise<AccountRecord> {
  const account = await rt.store.getAccount(id);
  if (
    !account ||
    account.platformId !== rt.platform.id ||
    !keySeesAccount(account.connectedModes, caller.livemode) ||
    // A connected account sees itself only.
    (caller.connectedAccount !== null && caller.connectedAccount.id !== id)
  ) {
    throw noSuch('account', id);
  }
  return account;
}

/** An account the caller's key may change: one connected in the key's mode. */
export async function changeableAccount(rt: Runtime, caller: Caller, id: string): Promise<AccountRecord> {
  const account = await visibleAccount(rt, caller, id);
  if (!keyChangesAccount(account.connectedModes, caller.livemode)) {
    const mode = caller.livemode ? 'live' : 'test';
    throw new ApiError(
      403,
      'permission_error',
      `The account '${id}' is not connected to this platform in ${mode} mode: a ${mode} key can act as it but not change or disconnect it.`,
      'account_invalid',
    );
  }
  return account;
}

/**
 * The connected account named by a route's `:account` (its external
 * accounts, its persons): the platform's, or the caller's own when it acts as
 * that account, and one the key may change.
 */
export async function pathAccount(rt: Runtime, c: Context<ApiEnv>): Promise<AccountRecord> {
  const caller = c.get('caller');
  const id = c.req.param('account') ?? '';
  if (caller.connectedAccount && caller.connectedAccount.id !== id) throw noSuch('account', id);
  return changeableAccount(rt, caller, id);
}

export function accountRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  /** An account the caller's key sees (a live key never sees a test-only one). */
  const visible = (caller: Caller, id: string) => visibleAccount(rt, caller, id);
  const changeable = (caller: Caller, id: string) => changeableAccount(rt, caller, id);

  app.post('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), CREATE_PARAMS);
    if (caller.connectedAccount) {
      throw new ApiError(
        403,
        'permission_error',
        'Only a platform can create connected accounts; remove the Stripe-Account header.',
      );
    }
    const controller = controllerParam(p);
    const type = p.choice('type', ACCOUNT_TYPES);
    if (type && controller) {
      throw invalidParam('controller', 'Pass either type or controller, not both.');
    }
    // Neither: Stripe's defaults for every controller property, a standard account.
    const properties = controller ?? (type ? controllerForType(type) : withDefaults({}));
    const connectMode = p.choice('connect_mode', CONNECT_MODES);
    const country = p.string('country');
    if (country !== undefined && !/^[A-Za-z]{2}$/.test(country)) {
      throw invalidParam('country', 'Invalid country: use a two-letter ISO code such as US.');
    }
    const now = rt.clock();
    const id = newId('acct', 16);
    const base = {
      ...newAccountObject({
        id,
        type: typeOfController(properties),
        createdUnix: toUnixSeconds(now),
        ...(country ? { country: country.toUpperCase() } : {}),
      }),
      controller: controllerObject(properties),
    } as unknown as JsonObject;
    const object = applyUpdate(base, p);
    await rt.store.createAccount({
      id,
      platformId: rt.platform.id,
      object,
      createdAt: now,
      connectedModes: modesAtCreation(caller.livemode, connectMode),
      deauthorizedAt: null,
    });
    return c.json(object);
  });

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'created']);
    const created = createdRange(p);
    // A connected account lists no accounts: it has none under it.
    if (caller.connectedAccount)
      return c.json(listObject('/v1/accounts', { data: [], hasMore: false }, (a) => a));
    const page = await rt.store.listAccounts(rt.platform.id, pageQuery(p), {
      seenByKeyOfMode: caller.livemode ? 'live' : 'test',
      ...(created ? { created } : {}),
    });
    return c.json(listObject('/v1/accounts', page, (a) => a.object));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json((await visible(c.get('caller'), c.req.param('id'))).object);
  });

  app.post('/:id', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), UPDATE_PARAMS);
    const account = await changeable(caller, c.req.param('id'));
    const next = applyUpdate(account.object, p) as unknown as Stripe.Account;
    // The update and its account.updated commit together; capability.updated follows for a status it moved.
    const after = await publishAccountUpdate(
      publishDeps(rt),
      requestEventFields(rt, c, account.id),
      account.object as unknown as Stripe.Account,
      next,
    );
    return c.json(after);
  });

  // The account disconnects the platform in the key's mode: the event goes out as it leaves, and once it is
  // connected in no mode the platform loses the account.
  app.delete('/:id', async (c) => {
    const caller = c.get('caller');
    new Params(c.get('params'), []);
    const account = await changeable(caller, c.req.param('id'));
    const modes = modesAfterDeauthorization(account.connectedModes, caller.livemode);
    // The disconnection and its account.application.deauthorized commit together.
    await publishEvent(publishDeps(rt), {
      effect: {
        account: {
          id: account.id,
          object: account.object,
          changes: { connectedModes: modes, ...(isConnected(modes) ? {} : { deauthorizedAt: rt.clock() }) },
        },
      },
      accountId: account.id,
      livemode: caller.livemode,
      type: DEAUTHORIZED_EVENT,
      object: { id: rt.platform.applicationId, object: 'application', name: rt.platform.name },
      apiVersion: rt.defaultApiVersion,
      requestId: c.get('requestId'),
      idempotencyKey: c.req.header('idempotency-key') ?? null,
      link: { platformId: rt.platform.id, connected: isConnected(modes), modes: account.connectedModes },
    });
    return c.json({ id: account.id, object: 'account', deleted: true });
  });

  return app;
}

/** `controller[…]` on create: Stripe's controller properties, defaults filled in. */
function controllerParam(p: Params): ControllerProperties | undefined {
  const raw = p.object('controller');
  if (raw === undefined) return undefined;
  const c = new Params(raw, ['fees', 'losses', 'requirement_collection', 'stripe_dashboard'], 'controller');
  const sub = (name: string, key: string) => {
    const v = c.object(name);
    return v === undefined ? undefined : new Params(v, [key], `controller[${name}]`);
  };
  const feesPayer = sub('fees', 'payer')?.choice('payer', ['account', 'application'] as const);
  const lossesPayments = sub('losses', 'payments')?.choice('payments', ['application', 'stripe'] as const);
  const requirementCollection = c.choice('requirement_collection', ['application', 'stripe'] as const);
  const dashboard = sub('stripe_dashboard', 'type')?.choice('type', ['express', 'full', 'none'] as const);
  return withDefaults({
    ...(feesPayer ? { feesPayer } : {}),
    ...(lossesPayments ? { lossesPayments } : {}),
    ...(requirementCollection ? { requirementCollection } : {}),
    ...(dashboard ? { dashboard } : {}),
  });
}

/**
 * `GET /v1/account`: the caller's own account, the platform (`stripe.accounts.retrieve()`),
 * or with `Stripe-Account` the connected account it acts as.
 */
export function ownAccountRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/', (c) => {
    new Params(c.get('params'), []);
    const caller = c.get('caller');
    if (caller.connectedAccount) return c.json(caller.connectedAccount.object);
    return c.json(platformAccountObject(rt.platform));
  });
  return app;
}
