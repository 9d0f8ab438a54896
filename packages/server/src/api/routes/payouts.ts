/**
 * `/v1/payouts`: pay out the caller's available balance to one of its
 * external accounts (a connected account's, with `Stripe-Account`);
 * services/payouts.ts settles each on the server's clock.
 */

import { Hono } from 'hono';
import { ownObject } from '../../services/objects.js';
import { createPayout, type PayoutsDeps } from '../../services/payouts.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalidParam, missingParam } from '../errors.js';
import { applyMetadata, Params } from '../params.js';
import { publishDeps } from './events.js';
import { listOwnObjects } from './ownObjects.js';
import { paymentsCaller } from './paymentIntents.js';

export function payoutsDeps(rt: Runtime): PayoutsDeps {
  return { publish: publishDeps(rt), store: rt.store, clock: rt.clock, payoutSettleMs: rt.payoutSettleMs };
}

export function payoutRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/', async (c) => {
    const p = new Params(c.get('params'), [
      'amount',
      'currency',
      'destination',
      'description',
      'metadata',
      'method',
      'statement_descriptor',
      'source_type',
    ]);
    const amount = p.int('amount', { min: 1 });
    if (amount === undefined) throw missingParam('amount');
    const currency = p.string('currency', { required: true, maxLength: 3 })!.toLowerCase();
    if (p.choice('method', ['standard', 'instant'] as const) === 'instant')
      throw invalidParam(
        'method',
        'Instant payouts are not emulated by Switchboard yet (docs/emulation.md).',
      );
    p.choice('source_type', ['card', 'bank_account', 'fpx'] as const);
    const payout = await createPayout(payoutsDeps(rt), paymentsCaller(rt, c), {
      amount,
      currency,
      destination: p.string('destination', { maxLength: 5000 }) || null,
      description: p.string('description', { maxLength: 5000 }) || null,
      metadata: applyMetadata({}, p.metadata()),
      statementDescriptor: p.string('statement_descriptor', { maxLength: 22 }) || null,
    });
    return c.json(payout);
  });

  app.get('/', (c) =>
    listOwnObjects(rt, c, { kind: 'payout', url: '/v1/payouts', lookupParam: 'destination', created: true }),
  );

  app.get('/:id', async (c) => {
    new Params(c.get('params'), []);
    return c.json(await ownObject(rt.store, c.get('caller'), 'payout', 'payout', c.req.param('id')));
  });

  return app;
}
