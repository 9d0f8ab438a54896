/**
 * `/v1/balance` and `/v1/balance_transactions`: the caller's balance, added up
 * from its balance transactions as of now (a charge's funds are pending until
 * their `available_on`), and the transactions themselves.
 */

import { Hono } from 'hono';
import type Stripe from 'stripe';
import { toUnixSeconds } from '../../clock.js';
import { balanceTransactionAt } from '../../objects/payments.js';
import { ownObject } from '../../services/objects.js';
import { balance } from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { Params } from '../params.js';
import { listOwnObjects } from './ownObjects.js';

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

  app.get('/', (c) =>
    listOwnObjects(rt, c, {
      kind: 'balance_transaction',
      url: '/v1/balance_transactions',
      lookupParam: 'source',
      created: true,
      show: (o) => asOfNow(o as unknown as Stripe.BalanceTransaction),
    }),
  );

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
