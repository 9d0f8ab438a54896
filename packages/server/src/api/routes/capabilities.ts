/**
 * `/v1/accounts/{account}/capabilities`: a connected account's capabilities,
 * listed, retrieved and requested (or dropped) one at a time. Their status
 * follows the account's requirements (objects/capability.ts); a change is an
 * `account.updated`, then a `capability.updated`.
 */

import { Hono } from 'hono';
import type Stripe from 'stripe';
import { capabilityObject } from '../../objects/capability.js';
import { publishAccountUpdate } from '../../services/accountUpdates.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalidParam, noSuch } from '../errors.js';
import { listObject } from '../pagination.js';
import { Params } from '../params.js';
import { pathAccount } from './accounts.js';
import { publishDeps, requestEventFields } from './events.js';

const capabilitiesOf = (a: Stripe.Account) => (a.capabilities ?? {}) as Record<string, string>;

export function capabilityRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    new Params(c.get('params'), []);
    const account = (await pathAccount(rt, c)).object as unknown as Stripe.Account;
    const data = Object.keys(capabilitiesOf(account))
      .sort()
      .map((name) => capabilityObject(account, name));
    return c.json(listObject(`/v1/accounts/${account.id}/capabilities`, { data, hasMore: false }, (x) => x));
  });

  app.get('/:capability', async (c) => {
    new Params(c.get('params'), []);
    const account = (await pathAccount(rt, c)).object as unknown as Stripe.Account;
    const name = c.req.param('capability');
    if (!(name in capabilitiesOf(account))) throw noSuch('capability', name);
    return c.body(JSON.stringify(capabilityObject(account, name)), 200, {
      'content-type': 'application/json',
    });
  });

  app.post('/:capability', async (c) => {
    const p = new Params(c.get('params'), ['requested']);
    const record = await pathAccount(rt, c);
    const before = record.object as unknown as Stripe.Account;
    const name = c.req.param('capability');
    if (!/^[a-z0-9_]{1,64}$/.test(name)) throw invalidParam('capability', `Invalid capability: '${name}'.`);
    const requested = p.bool('requested');
    const capabilities = { ...capabilitiesOf(before) };
    if (requested === true) capabilities[name] ??= 'inactive';
    else if (requested === false) delete capabilities[name];
    const after = await publishAccountUpdate(publishDeps(rt), requestEventFields(rt, c, record.id), before, {
      ...before,
      capabilities,
    } as Stripe.Account);
    const answer: Stripe.Capability =
      requested === false
        ? { ...capabilityObject(before, name), requested: false, status: 'inactive' }
        : capabilityObject(after, name);
    // As text: Hono's inference of a Capability's deep type would not end.
    return c.body(JSON.stringify(answer), 200, { 'content-type': 'application/json' });
  });

  return app;
}
