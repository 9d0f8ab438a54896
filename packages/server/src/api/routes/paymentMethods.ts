/** `/v1/payment_methods/{id}`: the card payment methods payments made from Stripe's test ids. */

import { Hono } from 'hono';
import { ownObject } from '../../services/objects.js';
import type { ApiEnv, Runtime } from '../context.js';
import { Params } from '../params.js';

export function paymentMethodRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(
      await ownObject(rt.store, c.get('caller'), 'payment_method', 'PaymentMethod', c.req.param('id')),
    );
  });
  return app;
}
