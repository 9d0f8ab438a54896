/**
 * `/v1/accounts/{account}/persons`: the persons of a connected account, each
 * change an event on it (`person.created`, `person.updated` with
 * `previous_attributes`, `person.deleted`); what a representative provides
 * meets the account's `representative.…` requirements (`account.updated`).
 * An SSN or ID number is never kept: only that it was provided.
 */

import { type Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { newId } from '../../ids.js';
import {
  accountWithRepresentative,
  newPerson,
  type PersonFields,
  updatedPerson,
} from '../../objects/person.js';
import { previousAttributes } from '../../objects/previousAttributes.js';
import { publishAccountUpdate } from '../../services/accountUpdates.js';
import { asJson, objectRecord, ownObject } from '../../services/objects.js';
import { publishEvent } from '../../services/publish.js';
import type { AccountRecord, JsonObject, ObjectRecord } from '../../store/types.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalidParam } from '../errors.js';
import { listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';
import { pathAccount } from './accounts.js';
import { publishDeps, requestEventFields } from './events.js';

const KIND = 'person';
const FIELDS = [
  'first_name',
  'last_name',
  'email',
  'phone',
  'dob',
  'address',
  'ssn_last_4',
  'id_number',
  'relationship',
  'metadata',
];
function fieldsFrom(p: Params, currentMetadata: Record<string, string>): PersonFields {
  const f: PersonFields = {};
  const text = (name: string, max: number) => {
    const v = p.string(name, { maxLength: max });
    return v === undefined ? undefined : v || null;
  };
  const firstName = text('first_name', 100);
  if (firstName !== undefined) f.firstName = firstName;
  const lastName = text('last_name', 100);
  if (lastName !== undefined) f.lastName = lastName;
  const email = text('email', 512);
  if (email !== undefined) f.email = email;
  const phone = text('phone', 20);
  if (phone !== undefined) f.phone = phone;
  if (p.has('dob')) {
    const d = new Params(p.object('dob')!, ['day', 'month', 'year'], 'dob');
    f.dob = {
      day: d.int('day', { min: 1, max: 31 }) ?? missing('dob[day]'),
      month: d.int('month', { min: 1, max: 12 }) ?? missing('dob[month]'),
      year: d.int('year', { min: 1900, max: 2100 }) ?? missing('dob[year]'),
    };
  }
  if (p.has('address')) {
    const a = new Params(
      p.object('address')!,
      ['city', 'country', 'line1', 'line2', 'postal_code', 'state'],
      'address',
    );
    const address: Partial<Stripe.Address> = {};
    for (const k of ['city', 'country', 'line1', 'line2', 'postal_code', 'state'] as const) {
      const v = a.string(k, { maxLength: 5000 });
      if (v !== undefined) address[k] = v || null;
    }
    f.address = address;
  }
  const ssn = p.string('ssn_last_4', { maxLength: 4 });
  if (ssn !== undefined) {
    if (!/^\d{4}$/.test(ssn))
      throw invalidParam('ssn_last_4', 'ssn_last_4 must be the last 4 digits of an SSN.');
    f.ssnLast4Provided = true;
  }
  const idNumber = p.string('id_number', { maxLength: 20 });
  if (idNumber !== undefined) {
    if (!/^\d{9}$/.test(idNumber)) throw invalidParam('id_number', 'id_number must be 9 digits (an SSN).');
    f.idNumberProvided = true;
    f.ssnLast4Provided = true;
  }
  if (p.has('relationship')) {
    const r = new Params(
      p.object('relationship')!,
      ['director', 'executive', 'owner', 'percent_ownership', 'representative', 'title'],
      'relationship',
    );
    const rel: Partial<Stripe.Person.Relationship> = {};
    for (const k of ['director', 'executive', 'owner', 'representative'] as const) {
      const v = r.bool(k);
      if (v !== undefined) rel[k] = v;
    }
    const pct = r.raw['percent_ownership'];
    if (pct !== undefined) {
      const n = Number(pct);
      if (!Number.isFinite(n) || n < 0 || n > 100)
        throw invalidParam('relationship[percent_ownership]', 'percent_ownership must be between 0 and 100.');
      rel.percent_ownership = n;
    }
    const title = r.string('title', { maxLength: 5000 });
    if (title !== undefined) rel.title = title || null;
    f.relationship = rel;
  }
  const metadata = p.metadata();
  if (metadata) f.metadata = applyMetadata(currentMetadata, metadata);
  return f;
}

function missing(param: string): never {
  throw invalidParam(param, `Missing required param: ${param}.`, 'parameter_missing');
}

export function personRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  const one = (account: AccountRecord, livemode: boolean, id: string) =>
    ownObject<Stripe.Person>(rt.store, { accountId: account.id, livemode }, KIND, 'person', id);

  const record = (
    account: AccountRecord,
    livemode: boolean,
    person: Stripe.Person,
    deleted = false,
  ): ObjectRecord => objectRecord({ accountId: account.id, livemode }, person, { deleted });

  /** Commit the person change with its event; `account.updated` follows when a representative met requirements. */
  async function commit(
    c: Context<ApiEnv>,
    account: AccountRecord,
    type: 'person.created' | 'person.updated' | 'person.deleted',
    person: Stripe.Person,
    previous: JsonObject | null = null,
  ): Promise<void> {
    const caller = c.get('caller');
    const common = requestEventFields(rt, c, account.id);
    await publishEvent(publishDeps(rt), {
      ...common,
      effect: { objects: [record(account, caller.livemode, person, type === 'person.deleted')] },
      type,
      object: asJson(person),
      previousAttributes: previous,
    });
    if (type === 'person.deleted' || !person.relationship?.representative) return;
    const before = account.object as unknown as Stripe.Account;
    const after = accountWithRepresentative(before, person);
    if (after !== before) await publishAccountUpdate(publishDeps(rt), common, before, after);
  }

  app.post('/', async (c) => {
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), FIELDS);
    const person = newPerson(
      newId('person', 24),
      account.id,
      Math.floor(rt.clock() / 1000),
      fieldsFrom(p, {}),
    );
    await commit(c, account, 'person.created', person);
    return c.json(person);
  });

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'relationship']);
    const page = await rt.store.listObjects({
      ...pageQuery(p),
      kind: KIND,
      accountId: account.id,
      livemode: caller.livemode,
    });
    const rel = p.object('relationship');
    let data = page.data.map((o) => o.object as unknown as Stripe.Person);
    if (rel) {
      const r = new Params(rel, ['director', 'executive', 'owner', 'representative'], 'relationship');
      for (const k of ['director', 'executive', 'owner', 'representative'] as const) {
        const want = r.bool(k);
        if (want !== undefined) data = data.filter((person) => (person.relationship?.[k] ?? false) === want);
      }
    }
    return c.json(
      listObject(`/v1/accounts/${account.id}/persons`, { data, hasMore: page.hasMore }, (x) => x),
    );
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    const account = await pathAccount(rt, c);
    return c.json(await one(account, c.get('caller').livemode, c.req.param('id')));
  });

  app.post('/:id', async (c) => {
    const account = await pathAccount(rt, c);
    const p = new Params(c.get('params'), FIELDS);
    const current = await one(account, c.get('caller').livemode, c.req.param('id'));
    const next = updatedPerson(current, fieldsFrom(p, (current.metadata ?? {}) as Record<string, string>));
    const previous = previousAttributes(asJson(current), asJson(next));
    if (Object.keys(previous).length === 0) return c.json(current);
    await commit(c, account, 'person.updated', next, previous);
    return c.json(next);
  });

  app.delete('/:id', async (c) => {
    new Params(c.get('params'), []);
    const account = await pathAccount(rt, c);
    const current = await one(account, c.get('caller').livemode, c.req.param('id'));
    await commit(c, account, 'person.deleted', current);
    return c.json({ id: current.id, object: 'person', deleted: true });
  });

  return app;
}
