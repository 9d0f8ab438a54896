/**
 * Card payments, emulated: a payment intent is created, confirmed with one of
 * Stripe's test payment methods, and succeeds (a charge, a balance
 * transaction) or fails with the card's decline; charges are refunded.
 * Each step is stored with the event it causes, in Stripe's order:
 * `payment_intent.created`, then `charge.succeeded` and
 * `payment_intent.succeeded` (with `balance.available` when the funds are
 * available at once), or `charge.failed` and `payment_intent.payment_failed`.
 * The route handlers (api/routes/payments.ts) validate; this decides.
 */

import type Stripe from 'stripe';
import { ApiError, invalid } from '../api/errors.js';
import { toUnixSeconds } from '../clock.js';
import { newId } from '../ids.js';
import {
  balanceOf,
  cardFee,
  type NewPaymentIntentInput,
  newBalanceTransaction,
  newCharge,
  newPaymentIntent,
  newRefund,
} from '../objects/payments.js';
import { cardPaymentMethod, TEST_CARDS, type TestCard } from '../objects/testCards.js';
import type { EventEffect, JsonObject, ObjectRecord, ObjectStore, ScheduledStep } from '../store/types.js';
import { asJson, objectRecord, ownObject } from './objects.js';
import { type PublishDeps, publishEvent } from './publish.js';
import type { StepHandler } from './scheduler.js';

export interface PaymentsDeps {
  publish: PublishDeps;
  store: ObjectStore;
  clock: () => number;
  /** How long a charge's funds stay pending before they are available, ms (`pm_card_bypassPending`: none). */
  fundsPendingMs: number;
}

/** Who acts (the platform or a connected account, in a mode) and what the events record of the request. */
export interface PaymentsCaller {
  accountId: string;
  livemode: boolean;
  apiVersion: string;
  requestId: string | null;
  idempotencyKey: string | null;
}

const DOC = 'https://docs.stripe.com/error-codes/';

/** Funds of a charge are available this long after it, unless its card bypasses pending (test mode hurries). */
export const DEFAULT_FUNDS_PENDING_MS = 10_000;

// One payment intent is changed by one request at a time on this node: a second confirm waits for the first,
// then finds the intent succeeded, instead of charging twice.
const locks = new Map<string, Promise<unknown>>();
async function exclusively<T>(id: string, fn: () => Promise<T>): Promise<T> {
  const before = locks.get(id) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  const settled = run.catch(() => {});
  locks.set(id, settled);
  try {
    return await run;
  } finally {
    if (locks.get(id) === settled) locks.delete(id);
  }
}

/** What each kind's list filters on: a payment intent's customer, a charge's payment intent. */
const intentRecord = (c: PaymentsCaller, pi: Stripe.PaymentIntent) =>
  objectRecord(c, pi, { lookupKey: (pi.customer as string | null) ?? null });
const chargeRecord = (c: PaymentsCaller, ch: Stripe.Charge) =>
  objectRecord(c, ch, { lookupKey: ch.payment_intent as string });

async function publish(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  type: string,
  object: object,
  written: ObjectRecord[],
  previous: JsonObject | null = null,
  steps: Pick<EventEffect, 'scheduleSteps' | 'completeSteps'> = {},
): Promise<void> {
  await publishEvent(deps.publish, {
    effect: { objects: written, ...steps },
    accountId: caller.accountId,
    livemode: caller.livemode,
    type,
    object: asJson(object),
    previousAttributes: previous,
    apiVersion: caller.apiVersion,
    requestId: caller.requestId,
    idempotencyKey: caller.idempotencyKey,
  });
}

/** The card behind a payment method this emulation made from a test id. */
function cardOf(pm: Stripe.PaymentMethod): TestCard {
  const card = Object.values(TEST_CARDS).find(
    (c) => c.brand === pm.card?.brand && c.last4 === pm.card?.last4,
  );
  if (!card) throw invalid(`No such PaymentMethod: '${pm.id}'`, 'resource_missing', 'payment_method');
  return card;
}

/**
 * The payment method a payment names: a test id (`pm_card_visa`) becomes a
 * new card payment method, as with Stripe; an id made that way is itself
 * accepted. Test ids exist in test mode only.
 */
async function resolvePaymentMethod(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  id: string,
): Promise<{ pm: Stripe.PaymentMethod; created: boolean }> {
  const card = TEST_CARDS[id];
  if (card && !caller.livemode) {
    const pm = cardPaymentMethod(newId('pm', 24), card, toUnixSeconds(deps.clock()), caller.livemode);
    return { pm, created: true };
  }
  const pm = await ownObject<Stripe.PaymentMethod>(
    deps.store,
    caller,
    'payment_method',
    'PaymentMethod',
    id,
    'payment_method',
  );
  return { pm, created: false };
}

export interface CreateIntentInput extends Omit<NewPaymentIntentInput, 'id' | 'createdUnix' | 'livemode'> {
  paymentMethod: string | null;
  confirm: boolean;
}

export async function createPaymentIntent(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  input: CreateIntentInput,
): Promise<Stripe.PaymentIntent> {
  if (input.customer) await ownObject(deps.store, caller, 'customer', 'customer', input.customer, 'customer');
  const resolved = input.paymentMethod ? await resolvePaymentMethod(deps, caller, input.paymentMethod) : null;
  const base = newPaymentIntent({
    ...input,
    id: newId('pi', 24),
    createdUnix: toUnixSeconds(deps.clock()),
    livemode: caller.livemode,
  });
  const intent: Stripe.PaymentIntent = resolved
    ? { ...base, payment_method: resolved.pm.id, status: 'requires_confirmation' }
    : base;
  const written = [intentRecord(caller, intent)];
  if (resolved?.created) written.push(objectRecord(caller, resolved.pm));
  await publish(deps, caller, 'payment_intent.created', intent, written);
  if (!input.confirm) return intent;
  return confirmPaymentIntent(deps, caller, intent.id, null);
}

/** The caller's payment intent, or Stripe's 404 naming `param`. */
const ownIntent = (deps: PaymentsDeps, caller: PaymentsCaller, id: string, param = 'id') =>
  ownObject<Stripe.PaymentIntent>(deps.store, caller, 'payment_intent', 'payment_intent', id, param);

const CONFIRMABLE: readonly Stripe.PaymentIntent.Status[] = [
  'requires_payment_method',
  'requires_confirmation',
];

function unexpectedState(intent: Stripe.PaymentIntent, action: string): ApiError {
  const error = invalid(
    `You cannot ${action} this PaymentIntent because it has a status of ${intent.status}.`,
    'payment_intent_unexpected_state',
  );
  error.details = { payment_intent: intent };
  return error;
}

export async function confirmPaymentIntent(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  id: string,
  paymentMethod: string | null,
): Promise<Stripe.PaymentIntent> {
  return exclusively(id, async () => {
    let intent = await ownIntent(deps, caller, id);
    if (!CONFIRMABLE.includes(intent.status)) throw unexpectedState(intent, 'confirm');
    const written: ObjectRecord[] = [];
    let pm: Stripe.PaymentMethod;
    if (paymentMethod) {
      const resolved = await resolvePaymentMethod(deps, caller, paymentMethod);
      pm = resolved.pm;
      if (resolved.created) written.push(objectRecord(caller, pm));
      intent = { ...intent, payment_method: pm.id };
    } else if (typeof intent.payment_method === 'string') {
      pm = await ownObject<Stripe.PaymentMethod>(
        deps.store,
        caller,
        'payment_method',
        'PaymentMethod',
        intent.payment_method,
      );
    } else {
      const error = invalid(
        'You cannot confirm this PaymentIntent because it\u2019s missing a payment method. Update it with a payment_method or pass one to confirm.',
        'payment_intent_unexpected_state',
        'payment_method',
      );
      error.details = { payment_intent: intent };
      throw error;
    }
    const card = cardOf(pm);
    const now = deps.clock();
    const nowUnix = toUnixSeconds(now);
    const chargeId = newId('ch', 24);

    if (card.decline) {
      const charge = newCharge({
        id: chargeId,
        createdUnix: nowUnix,
        intent,
        paymentMethod: pm,
        card,
        balanceTransaction: null,
      });
      const lastError = {
        charge: charge.id,
        code: card.decline.code,
        decline_code: card.decline.declineCode,
        doc_url: `${DOC}${card.decline.code.replaceAll('_', '-')}`,
        message: card.decline.message,
        payment_method: pm,
        type: 'card_error',
      };
      const failed: Stripe.PaymentIntent = {
        ...intent,
        status: 'requires_payment_method',
        latest_charge: charge.id,
        last_payment_error: lastError as unknown as Stripe.PaymentIntent.LastPaymentError,
        payment_method: null,
      };
      await publish(deps, caller, 'charge.failed', charge, [...written, chargeRecord(caller, charge)]);
      await publish(deps, caller, 'payment_intent.payment_failed', failed, [intentRecord(caller, failed)]);
      const error = new ApiError(402, 'card_error', card.decline.message, card.decline.code);
      error.executed = true;
      error.details = {
        charge: charge.id,
        decline_code: card.decline.declineCode,
        payment_intent: failed,
        payment_method: pm,
      };
      throw error;
    }

    const transactionId = newId('txn', 24);
    const availableOn = card.availableAtOnce ? nowUnix : toUnixSeconds(now + deps.fundsPendingMs);
    const transaction = newBalanceTransaction({
      id: transactionId,
      createdUnix: nowUnix,
      availableOnUnix: availableOn,
      amount: intent.amount,
      fee: cardFee(intent.amount),
      currency: intent.currency,
      source: chargeId,
      type: 'charge',
    });
    const charge = newCharge({
      id: chargeId,
      createdUnix: nowUnix,
      intent,
      paymentMethod: pm,
      card,
      balanceTransaction: transactionId,
    });
    const succeeded: Stripe.PaymentIntent = {
      ...intent,
      status: 'succeeded',
      amount_received: intent.amount,
      latest_charge: charge.id,
      last_payment_error: null,
    };
    // Pending funds: balance.available when they are, on the server's clock (services/scheduler.ts).
    const available: ScheduledStep[] = card.availableAtOnce
      ? []
      : [
          {
            id: newId('step', 24),
            kind: FUNDS_AVAILABLE,
            subjectId: transactionId,
            accountId: caller.accountId,
            livemode: caller.livemode,
            dueAt: availableOn * 1000,
          },
        ];
    await publish(
      deps,
      caller,
      'charge.succeeded',
      charge,
      [...written, chargeRecord(caller, charge), objectRecord(caller, transaction, { lookupKey: chargeId })],
      null,
      { scheduleSteps: available },
    );
    await publish(deps, caller, 'payment_intent.succeeded', succeeded, [intentRecord(caller, succeeded)]);
    if (card.availableAtOnce)
      await publish(deps, caller, 'balance.available', await balance(deps, caller), []);
    return succeeded;
  });
}

const CANCELABLE: readonly Stripe.PaymentIntent.Status[] = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'requires_capture',
];

export async function cancelPaymentIntent(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  id: string,
  reason: Stripe.PaymentIntent.CancellationReason | null,
): Promise<Stripe.PaymentIntent> {
  return exclusively(id, async () => {
    const intent = await ownIntent(deps, caller, id);
    if (!CANCELABLE.includes(intent.status)) throw unexpectedState(intent, 'cancel');
    const canceled: Stripe.PaymentIntent = {
      ...intent,
      status: 'canceled',
      canceled_at: toUnixSeconds(deps.clock()),
      cancellation_reason: reason,
    };
    await publish(deps, caller, 'payment_intent.canceled', canceled, [intentRecord(caller, canceled)]);
    return canceled;
  });
}

export interface RefundInput {
  charge: string | null;
  paymentIntent: string | null;
  amount: number | null;
  reason: Stripe.Refund.Reason | null;
  metadata: Record<string, string>;
}

export async function refundCharge(
  deps: PaymentsDeps,
  caller: PaymentsCaller,
  input: RefundInput,
): Promise<Stripe.Refund> {
  let chargeId = input.charge;
  if (input.paymentIntent) {
    const intent = await ownIntent(deps, caller, input.paymentIntent, 'payment_intent');
    if (intent.status !== 'succeeded' || typeof intent.latest_charge !== 'string')
      throw invalid(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        'charge_not_refundable',
        'payment_intent',
      );
    chargeId = intent.latest_charge;
  }
  if (!chargeId) throw invalid('One of charge or payment_intent is required.', 'parameter_missing', 'charge');
  return exclusively(chargeId, async () => {
    const charge = await ownObject<Stripe.Charge>(deps.store, caller, 'charge', 'charge', chargeId, 'charge');
    if (charge.status !== 'succeeded')
      throw invalid(
        `Charge ${charge.id} has not succeeded: it cannot be refunded.`,
        'charge_not_refundable',
        'charge',
      );
    const left = charge.amount - charge.amount_refunded;
    if (left <= 0)
      throw invalid(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded', 'charge');
    const amount = input.amount ?? left;
    if (amount > left)
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left}).`,
        'amount_too_large',
        'amount',
      );
    const nowUnix = toUnixSeconds(deps.clock());
    const refundId = newId('re', 24);
    const transaction = newBalanceTransaction({
      id: newId('txn', 24),
      createdUnix: nowUnix,
      availableOnUnix: nowUnix,
      amount: -amount,
      fee: 0,
      currency: charge.currency,
      source: refundId,
      type: 'refund',
    });
    const refund = newRefund({
      id: refundId,
      createdUnix: nowUnix,
      amount,
      charge,
      balanceTransaction: transaction.id,
      metadata: input.metadata,
      reason: input.reason,
    });
    const refunded: Stripe.Charge = {
      ...charge,
      amount_refunded: charge.amount_refunded + amount,
      refunded: charge.amount_refunded + amount === charge.amount,
    };
    await publish(deps, caller, 'refund.created', refund, [
      objectRecord(caller, refund, { lookupKey: charge.id }),
      objectRecord(caller, transaction, { lookupKey: refundId }),
    ]);
    await publish(deps, caller, 'charge.refunded', refunded, [chargeRecord(caller, refunded)], {
      amount_refunded: charge.amount_refunded,
      refunded: charge.refunded,
    });
    return refund;
  });
}

/** The scheduled step of a charge's pending funds. */
export const FUNDS_AVAILABLE = 'funds.available';

/**
 * The payments' scheduled steps (services/scheduler.ts): a charge's funds
 * becoming available sends `balance.available` with the balance then.
 */
export function paymentStepHandlers(deps: PaymentsDeps, apiVersion: string): Record<string, StepHandler> {
  return {
    [FUNDS_AVAILABLE]: async (step, request) => {
      const caller: PaymentsCaller = {
        accountId: step.accountId,
        livemode: step.livemode,
        apiVersion,
        ...request,
      };
      await publish(deps, caller, 'balance.available', await balance(deps, caller), [], null, {
        completeSteps: [step.id],
      });
    },
  };
}

/** The caller's balance now: every balance transaction of the account and mode, pending until available. */
export async function balance(
  deps: Pick<PaymentsDeps, 'store' | 'clock'>,
  caller: Pick<PaymentsCaller, 'accountId' | 'livemode'>,
): Promise<Stripe.Balance> {
  const transactions: Stripe.BalanceTransaction[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await deps.store.listObjects({
      kind: 'balance_transaction',
      accountId: caller.accountId,
      livemode: caller.livemode,
      limit: 100,
      ...(startingAfter ? { startingAfter } : {}),
    });
    for (const o of page.data) transactions.push(o.object as unknown as Stripe.BalanceTransaction);
    if (!page.hasMore || page.data.length === 0) break;
    startingAfter = page.data.at(-1)!.id;
  }
  return balanceOf(transactions, toUnixSeconds(deps.clock()), caller.livemode);
}
