/** `/v1/refunds`: refund a charge (or a payment intent's charge), whole or in part; retrieve and list refunds. */

import { Hono } from 'hono';
import { ownObject } from '../../services/objects.js';
import { refundCharge } from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalid } from '../errors.js';
import { applyMetadata, Params } from '../params.js';
import { listOwnObjects } from './ownObjects.js';
import { paymentsCaller, paymentsDeps } from './paymentIntents.js';

export function refundRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/', async (c) => {
    const p = new Params(c.get('params'), ['charge', 'payment_intent', 'amount', 'reason', 'metadata']);
    const charge = p.string('charge', { maxLength: 5000 }) || null;
    const intent = p.string('payment_intent', { maxLength: 5000 }) || null;
    if (charge && intent)
      throw invalid(
        'You may only specify one of these parameters: charge, payment_intent.',
        'parameter_invalid',
        'payment_intent',
      );
    if (!charge && !intent) throw invalid('Missing required param: charge.', 'parameter_missing', 'charge');
    const refund = await refundCharge(paymentsDeps(rt), paymentsCaller(rt, c), {
      charge,
      paymentIntent: intent,
      amount: p.int('amount', { min: 1 }) ?? null,
      reason: p.choice('reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const) ?? null,
      metadata: applyMetadata({}, p.metadata()),
    });
    return c.json(refund);
  });

  app.get('/', (c) => listOwnObjects(rt, c, { kind: 'refund', url: '/v1/refunds', lookupParam: 'charge' }));

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await ownObject(rt.store, c.get('caller'), 'refund', 'refund', c.req.param('id')));
  });

  return app;
}
