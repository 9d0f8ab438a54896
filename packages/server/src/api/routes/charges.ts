/** `/v1/charges`: the charges payment intents made, retrieved and listed in the caller's account and mode. */

import { Hono } from 'hono';
import { ownObject } from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { createdRange, listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { Params } from '../params.js';

export function chargeRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'created', 'payment_intent']);
    const created = createdRange(p);
    const intent = p.string('payment_intent', { maxLength: 5000 });
    const page = await rt.store.listObjects({
      ...pageQuery(p),
      kind: 'charge',
      accountId: caller.accountId,
      livemode: caller.livemode,
      ...(intent ? { lookupKey: intent } : {}),
      ...(created ? { created } : {}),
    });
    return c.json(listObject('/v1/charges', page, (o) => o.object));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await ownObject(rt.store, c.get('caller'), 'charge', 'charge', c.req.param('id')));
  });

  return app;
}
