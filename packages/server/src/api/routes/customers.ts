/**
 * `/v1/customers`: create, retrieve, update, delete and list customers of the
 * caller's account (the platform, or the connected account in
 * `Stripe-Account`) in the key's mode. Each change commits with its event:
 * `customer.created`, `customer.updated` (with `previous_attributes`) and
 * `customer.deleted`.
 */

import { type Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { toUnixSeconds } from '../../clock.js';
import { newId, randomBytesPooled } from '../../ids.js';
import {
  type CustomerAddress,
  type CustomerFields,
  type CustomerShipping,
  deletedCustomer,
  newCustomerObject,
  updatedCustomer,
} from '../../objects/customer.js';
import { previousAttributes } from '../../objects/previousAttributes.js';
import { objectRecord } from '../../services/objects.js';
import { publishEvent } from '../../services/publish.js';
import type { JsonObject, ObjectRecord } from '../../store/types.js';
import type { ApiEnv, Caller, Runtime } from '../context.js';
import { invalidParam, noSuch } from '../errors.js';
import { applyMetadata, Params } from '../params.js';
import { publishDeps } from './events.js';
import { listOwnObjects } from './ownObjects.js';

const KIND = 'customer';
const FIELDS = [
  'address',
  'balance',
  'description',
  'email',
  'invoice_prefix',
  'metadata',
  'name',
  'phone',
  'preferred_locales',
  'shipping',
  'tax_exempt',
] as const;
const ADDRESS_FIELDS = ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const;
const TAX_EXEMPT = ['none', 'exempt', 'reverse'] as const;

/** A string field where '' clears the value, bounded as Stripe bounds it. */
function clearable(p: Params, name: string, maxLength: number): string | null | undefined {
  const v = p.string(name, { maxLength });
  return v === '' ? null : v;
}

/** An address; on an update, the fields given change and the others stay (`current`), as Stripe merges hashes. */
function address(
  raw: Record<string, unknown>,
  param: string,
  current: CustomerAddress | null = null,
): CustomerAddress {
  const p = new Params(raw, ADDRESS_FIELDS, param);
  const out: CustomerAddress = current
    ? { ...current }
    : { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
  for (const f of ADDRESS_FIELDS) {
    const v = clearable(p, f, 5000);
    if (v !== undefined) out[f] = v;
  }
  return out;
}

function shipping(raw: Record<string, unknown>): CustomerShipping {
  const p = new Params(raw, ['address', 'name', 'phone'], 'shipping');
  return {
    address: address(p.object('address', { required: true })!, 'shipping[address]'),
    name: p.string('name', { required: true, maxLength: 5000 })!,
    phone: clearable(p, 'phone', 5000) ?? null,
  };
}

/** The customer fields of a create or, given the customer as it is, of an update; validated. */
function fieldsFrom(p: Params, current: Stripe.Customer | null): CustomerFields {
  const fields: CustomerFields = {};
  const set = <K extends keyof CustomerFields>(key: K, value: CustomerFields[K] | undefined) => {
    if (value !== undefined) fields[key] = value;
  };
  if (p.has('address'))
    set(
      'address',
      p.raw['address'] === '' ? null : address(p.object('address')!, 'address', current?.address ?? null),
    );
  set('balance', p.int('balance'));
  set('description', clearable(p, 'description', 5000));
  set('email', clearable(p, 'email', 512));
  const prefix = p.string('invoice_prefix');
  if (prefix !== undefined) {
    if (!/^[A-Z0-9]{3,12}$/.test(prefix))
      throw invalidParam('invoice_prefix', 'invoice_prefix must be 3 to 12 uppercase letters or numbers.');
    set('invoicePrefix', prefix);
  }
  const metadata = p.metadata();
  if (metadata) set('metadata', applyMetadata(current?.metadata ?? {}, metadata));
  set('name', clearable(p, 'name', 256));
  set('phone', clearable(p, 'phone', 20));
  if (p.has('preferred_locales')) set('preferredLocales', p.stringArray('preferred_locales') ?? []);
  if (p.has('shipping')) set('shipping', p.raw['shipping'] === '' ? null : shipping(p.object('shipping')!));
  set('taxExempt', p.choice('tax_exempt', TAX_EXEMPT));
  return fields;
}

/** Stripe gives each customer an invoice prefix of its own: 8 hexadecimal characters, upper case. */
const invoicePrefix = (): string => randomBytesPooled(4).toString('hex').toUpperCase();

/** A customer's record: its list filters on the email. */
const record = (caller: Caller, customer: Stripe.Customer, deleted = false): ObjectRecord =>
  objectRecord(caller, customer, { lookupKey: customer.email, deleted });

export function customerRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  /** The caller's customer, in the key's mode; a deleted one only when `deletedToo`. */
  async function own(caller: Caller, id: string, deletedToo = false): Promise<ObjectRecord> {
    const found = await rt.store.getObject(id);
    if (
      !found ||
      found.kind !== KIND ||
      found.accountId !== caller.accountId ||
      found.livemode !== caller.livemode ||
      (found.deleted && !deletedToo)
    )
      throw noSuch('customer', id);
    return found;
  }

  /** Store the change with its event: both or neither. */
  async function commit(
    c: Context<ApiEnv>,
    type: 'customer.created' | 'customer.updated' | 'customer.deleted',
    customer: Stripe.Customer,
    written: ObjectRecord,
    previous: JsonObject | null = null,
  ): Promise<void> {
    const caller = c.get('caller');
    await publishEvent(publishDeps(rt), {
      effect: { objects: [written] },
      accountId: caller.accountId,
      livemode: caller.livemode,
      type,
      object: customer as unknown as JsonObject,
      previousAttributes: previous,
      apiVersion: rt.defaultApiVersion,
      requestId: c.get('requestId'),
      idempotencyKey: c.req.header('idempotency-key') ?? null,
    });
  }

  app.post('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), FIELDS);
    const customer = newCustomerObject({
      ...fieldsFrom(p, null),
      id: newId('cus', 14),
      createdUnix: toUnixSeconds(rt.clock()),
      livemode: caller.livemode,
      defaultInvoicePrefix: invoicePrefix(),
    });
    await commit(c, 'customer.created', customer, record(caller, customer));
    return c.json(customer);
  });

  app.get('/', (c) =>
    listOwnObjects(rt, c, { kind: KIND, url: '/v1/customers', lookupParam: 'email', created: true }),
  );

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    const found = await own(c.get('caller'), c.req.param('id'), true);
    return c.json(found.deleted ? deletedCustomer(found.id) : found.object);
  });

  app.post('/:id', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), FIELDS);
    const found = await own(caller, c.req.param('id'));
    const before = found.object as unknown as Stripe.Customer;
    const after = updatedCustomer(before, fieldsFrom(p, before));
    const previous = previousAttributes(found.object, after as unknown as JsonObject);
    // Nothing changed: no event, as with Stripe.
    if (Object.keys(previous).length === 0) return c.json(before);
    await commit(c, 'customer.updated', after, record(caller, after), previous);
    return c.json(after);
  });

  app.delete('/:id', async (c) => {
    const caller = c.get('caller');
    new Params(c.get('params'), []);
    const found = await own(caller, c.req.param('id'));
    const customer = found.object as unknown as Stripe.Customer;
    await commit(c, 'customer.deleted', customer, record(caller, customer, true));
    return c.json(deletedCustomer(found.id));
  });

  return app;
}
