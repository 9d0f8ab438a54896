/** `/v1/refunds`: refund a charge (or a payment intent's charge), whole or in part; retrieve and list refunds. */

import { Hono } from 'hono';
import { ownObject, refundCharge } from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalid } from '../errors.js';
import { listObject, PAGE_PARAMS, pageQuery } from '../pagination.js';
import { applyMetadata, Params } from '../params.js';
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

  app.get('/', async (c) => {
    const caller = c.get('caller');
    const p = new Params(c.get('params'), [...PAGE_PARAMS, 'charge']);
    const charge = p.string('charge', { maxLength: 5000 });
    const page = await rt.store.listObjects({
      ...pageQuery(p),
      kind: 'refund',
      accountId: caller.accountId,
      livemode: caller.livemode,
      ...(charge ? { lookupKey: charge } : {}),
    });
    return c.json(listObject('/v1/refunds', page, (o) => o.object));
  });

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await ownObject(rt.store, c.get('caller'), 'refund', 'refund', c.req.param('id')));
  });

  return app;
}
