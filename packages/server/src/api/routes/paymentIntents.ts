/**
 * `/v1/payment_intents`: create (and confirm), retrieve, list, confirm and
 * cancel, in the caller's account and mode, with Stripe's test payment
 * methods (objects/testCards.ts). services/payments.ts runs each step and
 * its events.
 */

import { type Context, Hono } from 'hono';
import type Stripe from 'stripe';
import { ownObject } from '../../services/objects.js';
import {
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  type PaymentsCaller,
  type PaymentsDeps,
} from '../../services/payments.js';
import type { ApiEnv, Runtime } from '../context.js';
import { invalid, invalidParam, missingParam } from '../errors.js';
import { applyMetadata, Params } from '../params.js';
import { publishDeps, requestEventFields } from './events.js';
import { listOwnObjects } from './ownObjects.js';

export function paymentsDeps(rt: Runtime): PaymentsDeps {
  return { publish: publishDeps(rt), store: rt.store, clock: rt.clock, fundsPendingMs: rt.fundsPendingMs };
}

export function paymentsCaller(rt: Runtime, c: Context<ApiEnv>): PaymentsCaller {
  return requestEventFields(rt, c);
}

/** Parameters of Stripe's that this emulation does not model yet: refused by name rather than ignored. */
const NOT_EMULATED = [
  'application_fee_amount',
  'on_behalf_of',
  'transfer_data',
  'transfer_group',
  'setup_future_usage',
  'off_session',
  'mandate_data',
];
const CREATE_PARAMS = [
  'amount',
  'automatic_payment_methods',
  'capture_method',
  'confirm',
  'currency',
  'customer',
  'description',
  'metadata',
  'payment_method',
  'payment_method_types',
  'receipt_email',
  'return_url',
  'shipping',
  'statement_descriptor',
  ...NOT_EMULATED,
];

function refuseNotEmulated(p: Params): void {
  for (const name of NOT_EMULATED)
    if (p.has(name))
      throw invalid(
        `Received unknown parameter: ${name}. Stripe has it; Switchboard does not emulate it yet (docs/emulation.md lists what is).`,
        'parameter_unknown',
        name,
      );
}

function shipping(p: Params): Stripe.PaymentIntent.Shipping | null {
  const raw = p.object('shipping');
  if (!raw) return null;
  const s = new Params(raw, ['name', 'phone', 'address', 'carrier', 'tracking_number'], 'shipping');
  const a = new Params(
    s.object('address', { required: true })!,
    ['city', 'country', 'line1', 'line2', 'postal_code', 'state'],
    'shipping[address]',
  );
  const field = (q: Params, n: string) => q.string(n, { maxLength: 5000 }) ?? null;
  return {
    address: {
      city: field(a, 'city'),
      country: field(a, 'country'),
      line1: field(a, 'line1'),
      line2: field(a, 'line2'),
      postal_code: field(a, 'postal_code'),
      state: field(a, 'state'),
    },
    carrier: field(s, 'carrier'),
    name: s.string('name', { required: true, maxLength: 5000 })!,
    phone: field(s, 'phone'),
    tracking_number: field(s, 'tracking_number'),
  };
}

/** Stripe's minimum charge in US dollars is $0.50: fifty cents. */
const MIN_USD_AMOUNT = 50;

export function paymentIntentRoutes(rt: Runtime): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.post('/', async (c) => {
    const p = new Params(c.get('params'), CREATE_PARAMS);
    refuseNotEmulated(p);
    const amount = p.int('amount', { min: 1, max: 99_999_999 });
    if (amount === undefined) throw missingParam('amount');
    const currency = p.string('currency', { required: true, maxLength: 3 })!.toLowerCase();
    if (!/^[a-z]{3}$/.test(currency)) throw invalidParam('currency', `Invalid currency: ${currency}.`);
    if (currency === 'usd' && amount < MIN_USD_AMOUNT)
      throw invalidParam('amount', 'Amount must be at least $0.50 usd', 'amount_too_small');
    const capture = p.choice('capture_method', ['automatic', 'automatic_async', 'manual'] as const);
    if (capture === 'manual')
      throw invalidParam(
        'capture_method',
        'capture_method=manual is not emulated by Switchboard yet (docs/emulation.md).',
      );
    if (p.has('automatic_payment_methods'))
      new Params(
        p.object('automatic_payment_methods')!,
        ['enabled', 'allow_redirects'],
        'automatic_payment_methods',
      );
    const types = p.stringArray('payment_method_types') ?? ['card'];
    if (types.some((t) => t !== 'card'))
      throw invalidParam(
        'payment_method_types',
        'Only card payments are emulated by Switchboard (docs/emulation.md).',
      );
    const intent = await createPaymentIntent(paymentsDeps(rt), paymentsCaller(rt, c), {
      amount,
      currency,
      customer: p.string('customer', { maxLength: 5000 }) || null,
      description: p.string('description', { maxLength: 1000 }) || null,
      metadata: applyMetadata({}, p.metadata()),
      paymentMethodTypes: types,
      receiptEmail: p.string('receipt_email', { maxLength: 512 }) || null,
      shipping: shipping(p),
      statementDescriptor: p.string('statement_descriptor', { maxLength: 22 }) || null,
      paymentMethod: p.string('payment_method', { maxLength: 5000 }) || null,
      confirm: p.bool('confirm') ?? false,
    });
    return c.json(intent);
  });

  app.get('/', (c) =>
    listOwnObjects(rt, c, {
      kind: 'payment_intent',
      url: '/v1/payment_intents',
      lookupParam: 'customer',
      created: true,
    }),
  );

  app.get('/:id', async (c) => {
    new Params(c.get('params'), ['client_secret']);
    return c.json(
      await ownObject(rt.store, c.get('caller'), 'payment_intent', 'payment_intent', c.req.param('id')),
    );
  });

  app.post('/:id/confirm', async (c) => {
    const p = new Params(c.get('params'), [
      'payment_method',
      'return_url',
      'receipt_email',
      'payment_method_types',
    ]);
    const intent = await confirmPaymentIntent(
      paymentsDeps(rt),
      paymentsCaller(rt, c),
      c.req.param('id'),
      p.string('payment_method', { maxLength: 5000 }) || null,
    );
    return c.json(intent);
  });

  app.post('/:id/cancel', async (c) => {
    const p = new Params(c.get('params'), ['cancellation_reason']);
    const reason = p.choice('cancellation_reason', [
      'duplicate',
      'fraudulent',
      'requested_by_customer',
      'abandoned',
    ] as const);
    const intent = await cancelPaymentIntent(
      paymentsDeps(rt),
      paymentsCaller(rt, c),
      c.req.param('id'),
      reason ?? null,
    );
    return c.json(intent);
  });

  return app;
}
