/**
 * The list route every emulated resource has: one page of the caller's
 * objects of a kind (its account, its key's mode), newest first, with
 * Stripe's `created` filter and at most one more, on what the kind's records
 * keep as their lookup key (a payment intent's customer, a charge's payment
 * intent, …).
 */

import type { Context } from 'hono';
import type { JsonObject } from '../../store/types.js';
import type { ApiEnv, Runtime } from '../context.js';
import { createdRange, listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { Params } from '../params.js';

export interface OwnListOptions {
  kind: string;
  /** The list's `url`, as Stripe's lists carry it. */
  url: string;
  /** The parameter that filters on the lookup key, if the list has one. */
  lookupParam?: string;
  /** Whether `created` is accepted. */
  created?: boolean;
  /** How a stored object is shown (default: as stored). */
  show?: (object: JsonObject) => unknown;
}

export async function listOwnObjects(rt: Runtime, c: Context<ApiEnv>, o: OwnListOptions): Promise<Response> {
  const caller = c.get('caller');
  const allowed: string[] = [...PAGE_PARAMS];
  if (o.created) allowed.push('created');
  if (o.lookupParam) allowed.push(o.lookupParam);
  const p = new Params(c.get('params'), allowed);
  const created = o.created ? createdRange(p) : undefined;
  const lookup = o.lookupParam ? p.string(o.lookupParam, { maxLength: 5000 }) : undefined;
  const page = await rt.store.listObjects({
    ...pageQuery(p),
    kind: o.kind,
    accountId: caller.accountId,
    livemode: caller.livemode,
    ...(lookup ? { lookupKey: lookup } : {}),
    ...(created ? { created } : {}),
  });
  return c.json(listObject(o.url, page, (r) => (o.show ? o.show(r.object) : r.object)));
}
