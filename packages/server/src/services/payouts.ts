/**
 * Payouts, emulated: a payout takes funds from the available balance now
 * (`payout.created`) and settles later on the server's clock (a scheduled
 * step): `payout.paid`, or `payout.failed` with the failure code of the test
 * bank account it went to, the funds returned, and the bank account
 * `errored` (`account.external_account.updated`) so that payouts stop until
 * it is replaced, as Stripe's guide says.
 */

import type Stripe from 'stripe';
import { ApiError, invalid, invalidParam } from '../api/errors.js';
import { toUnixSeconds } from '../clock.js';
import { newId } from '../ids.js';
import {
  type ExternalAccount,
  TEST_BANK_ACCOUNTS,
  withExternalAccountList,
} from '../objects/externalAccount.js';
import { newBalanceTransaction } from '../objects/payments.js';
import { erroredBankAccount, newPayout, settledPayout } from '../objects/payout.js';
import type { AccountStore, JsonObject, ObjectStore, ScheduledStep, ScheduleStore } from '../store/types.js';
import { asJson, objectRecord, ownObject } from './objects.js';
import { balance, type PaymentsCaller } from './payments.js';
import { type PublishDeps, publishEvent } from './publish.js';
import type { StepHandler } from './scheduler.js';

export interface PayoutsDeps {
  publish: PublishDeps;
  store: ObjectStore & Pick<AccountStore, 'getAccount'> & Pick<ScheduleStore, 'completeSteps'>;
  clock: () => number;
  /** How long after its creation a payout settles, ms (test mode hurries). */
  payoutSettleMs: number;
}

/** A payout settles this long after it is made, in test mode. */
export const DEFAULT_PAYOUT_SETTLE_MS = 10_000;
export const PAYOUT_SETTLE = 'payout.settle';

/** What a payout to this external account does: null pays, else Stripe's failure code for its test number. */
function failureFor(destination: ExternalAccount): string | null {
  if (destination.object !== 'bank_account') return null;
  for (const [number, failure] of Object.entries(TEST_BANK_ACCOUNTS))
    if (number.endsWith(destination.last4 ?? '')) return failure;
  return null;
}

/** An account's external accounts in a mode (up to 100, as the account object lists them). */
async function externalAccountsOf(
  store: Pick<ObjectStore, 'listObjects'>,
  owner: { accountId: string; livemode: boolean },
): Promise<ExternalAccount[]> {
  const page = await store.listObjects({
    kind: 'external_account',
    accountId: owner.accountId,
    livemode: owner.livemode,
    limit: 100,
  });
  return page.data.map((o) => o.object as unknown as ExternalAccount);
}

export interface PayoutInput {
  amount: number;
  currency: string;
  destination: string | null;
  description: string | null;
  metadata: Record<string, string>;
  statementDescriptor: string | null;
}

export async function createPayout(
  deps: PayoutsDeps,
  caller: PaymentsCaller,
  input: PayoutInput,
): Promise<Stripe.Payout> {
  const externals = await externalAccountsOf(deps.store, caller);
  let destination: ExternalAccount | undefined;
  if (input.destination) {
    destination = externals.find((e) => e.id === input.destination);
    if (!destination)
      throw invalidParam(
        'destination',
        `No such external account: '${input.destination}'`,
        'resource_missing',
      );
  } else destination = externals.find((e) => e.currency === input.currency && e.default_for_currency);
  if (!destination)
    throw invalid(
      `This account has no external account in ${input.currency}: add one (POST /v1/accounts/{id}/external_accounts).`,
      'no_external_account',
      'destination',
    );
  if (destination.object === 'bank_account' && destination.status === 'errored')
    throw invalid(
      `The external account ${destination.id} is errored (a payout to it failed): update it or add another before paying out.`,
      'external_account_errored',
      'destination',
    );
  if (destination.currency !== input.currency)
    throw invalidParam(
      'currency',
      `The external account ${destination.id} is in ${destination.currency}, not ${input.currency}.`,
    );
  const available =
    (await balance(deps, caller)).available.find((a) => a.currency === input.currency)?.amount ?? 0;
  if (available < input.amount)
    throw new ApiError(
      400,
      'invalid_request_error',
      `You have insufficient funds in your Stripe account for this payout: ${available} ${input.currency} available.`,
      'balance_insufficient',
    );

  const now = deps.clock();
  const nowUnix = toUnixSeconds(now);
  const payoutId = newId('po', 24);
  const transaction = newBalanceTransaction({
    id: newId('txn', 24),
    createdUnix: nowUnix,
    availableOnUnix: nowUnix,
    amount: -input.amount,
    fee: 0,
    currency: input.currency,
    source: payoutId,
    type: 'payout',
  });
  const payout = newPayout({
    id: payoutId,
    createdUnix: nowUnix,
    arrivalUnix: toUnixSeconds(now + deps.payoutSettleMs),
    amount: input.amount,
    currency: input.currency,
    destination,
    balanceTransaction: transaction.id,
    description: input.description,
    metadata: input.metadata,
    statementDescriptor: input.statementDescriptor,
    livemode: caller.livemode,
  });
  const settle: ScheduledStep = {
    id: newId('step', 24),
    kind: PAYOUT_SETTLE,
    subjectId: payoutId,
    accountId: caller.accountId,
    livemode: caller.livemode,
    dueAt: now + deps.payoutSettleMs,
  };
  await publishEvent(deps.publish, {
    effect: {
      objects: [
        objectRecord(caller, payout, { lookupKey: destination.id }),
        objectRecord(caller, transaction, { lookupKey: payoutId }),
      ],
      scheduleSteps: [settle],
    },
    accountId: caller.accountId,
    livemode: caller.livemode,
    type: 'payout.created',
    object: asJson(payout),
    apiVersion: caller.apiVersion,
    requestId: caller.requestId,
    idempotencyKey: caller.idempotencyKey,
  });
  return payout;
}

/** The step a payout settles in: paid, or failed with its destination errored. */
export function payoutStepHandlers(deps: PayoutsDeps, apiVersion: string): Record<string, StepHandler> {
  return {
    [PAYOUT_SETTLE]: async (step, request) => {
      const caller = { accountId: step.accountId, livemode: step.livemode };
      const common = {
        accountId: step.accountId,
        livemode: step.livemode,
        apiVersion,
        ...request,
      };
      const payout = await ownObject<Stripe.Payout>(deps.store, caller, 'payout', 'payout', step.subjectId);
      if (payout.status !== 'pending') {
        await deps.store.completeSteps([step.id]);
        return;
      }
      const externals = await externalAccountsOf(deps.store, step);
      const destination = externals.find((e) => e.id === payout.destination);
      const failure = destination ? failureFor(destination) : 'no_account';
      const nowUnix = toUnixSeconds(deps.clock());
      if (failure === null) {
        const paid = settledPayout(payout, null, null);
        await publishEvent(deps.publish, {
          ...common,
          effect: {
            objects: [objectRecord(caller, paid, { lookupKey: paid.destination as string })],
            completeSteps: [step.id],
          },
          type: 'payout.paid',
          object: asJson(paid),
          previousAttributes: { status: 'pending' },
        });
        return;
      }
      // The funds come back, available at once.
      const returned = newBalanceTransaction({
        id: newId('txn', 24),
        createdUnix: nowUnix,
        availableOnUnix: nowUnix,
        amount: payout.amount,
        fee: 0,
        currency: payout.currency,
        source: payout.id,
        type: 'payout_failure',
      });
      const failed = settledPayout(payout, failure, returned.id);
      await publishEvent(deps.publish, {
        ...common,
        effect: {
          objects: [
            objectRecord(caller, failed, { lookupKey: failed.destination as string }),
            objectRecord(caller, returned, { lookupKey: payout.id }),
          ],
          completeSteps: [step.id],
        },
        type: 'payout.failed',
        object: asJson(failed),
        previousAttributes: {
          status: 'pending',
          failure_code: null,
          failure_message: null,
          failure_balance_transaction: null,
        },
      });
      if (destination?.object !== 'bank_account') return;
      const errored = erroredBankAccount(destination);
      const account = await deps.store.getAccount(step.accountId);
      const listAfter = externals.map((e) => (e.id === errored.id ? errored : e));
      await publishEvent(deps.publish, {
        ...common,
        effect: {
          objects: [
            objectRecord(caller, errored, {
              kind: 'external_account',
              lookupKey: 'bank_account',
              createdUnix: nowUnix,
            }),
          ],
          ...(account
            ? {
                account: {
                  id: account.id,
                  object: asJson(
                    withExternalAccountList(account.object as unknown as Stripe.Account, listAfter),
                  ),
                },
              }
            : {}),
        },
        type: 'account.external_account.updated',
        object: asJson(errored),
        previousAttributes: {
          status: destination.status,
          requirements: destination.requirements ?? null,
        } as JsonObject,
      });
    },
  };
}
