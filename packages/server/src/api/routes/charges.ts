/** `/v1/charges`: the charges payment intents made, retrieved and listed in the caller's account and mode. */

import { Hono } from 'hono';
import { ownObject } from '../../services/objects.js';
import type { ApiEnv, Runtime } from '../context.js';
import { Params } from '../params.js';
import { listOwnObjects } from './ownObjects.js';

export function chargeRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/', (c) =>
    listOwnObjects(rt, c, {
      kind: 'charge',
      url: '/v1/charges',
      lookupParam: 'payment_intent',
      created: true,
    }),
  );

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await ownObject(rt.store, c.get('caller'), 'charge', 'charge', c.req.param('id')));
  });

  return app;
}
