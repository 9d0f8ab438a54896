/**
 * `/v1/balance` and `/v1/balance_transactions`: the caller's balance, added up
 * from its balance transactions as of now (a charge's funds are pending until
 * their `available_on`), and the transactions themselves.
 */

import { Hono } from 'hono';
import type Stripe from 'stripe';
import { toUnixSeconds } from '../../clock.js';
import { balanceTransactionAt } from '../../objects/payments.js';
import { balance, ownObject } from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { createdRange, listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { Params } from '../params.js';

export function balanceRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await balance({ store: rt.store, clock: rt.clock }, c.get('caller')));
  });
  return app;
}

export function balanceTransactionRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const asOfNow = (t: Stripe.BalanceTransaction) => balanceTransactionAt(t, toUnixSeconds(rt.clock()));

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'created', 'source']);
    const created = createdRange(p);
    const source = p.string('source', { maxLength: 5000 });
    const page = await rt.store.listObjects({
      ...pageQuery(p),
      kind: 'balance_transaction',
      accountId: caller.accountId,
      livemode: caller.livemode,
      ...(source ? { lookupKey: source } : {}),
      ...(created ? { created } : {}),
    });
    return c.json(
      listObject('/v1/balance_transactions', page, (o) =>
        asOfNow(o.object as unknown as Stripe.BalanceTransaction),
      ),
    );
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    const t = await ownObject<Stripe.BalanceTransaction>(
      rt.store,
      c.get('caller'),
      'balance_transaction',
      'balance transaction',
      c.req.param('id'),
    );
    return c.json(asOfNow(t));
  });

  return app;
}
