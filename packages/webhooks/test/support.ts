import Stripe from 'stripe';
import { WebhookSignatureError, type WebhookSignatureErrorCode } from '../src/index.js';

export const SECRET = 'whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH';
export const OTHER_SECRET = 'whsec_test_other_9s8d7f6g5h4j3k2l1';
/** A fixed clock: 2023-11-14T22:13:20Z. */
export const NOW_S = 1_700_000_000;
export const NOW_MS = NOW_S * 1000;
export const fixedNow = () => NOW_MS;

export const EVENT = {
  id: 'evt_1Test',
  object: 'event',
  account: 'acct_1Connected',
  api_version: '2024-06-20',
  created: NOW_S,
  data: { object: { id: 'acct_1Connected', object: 'account', charges_enabled: true } },
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: 'account.updated',
};
export const BODY = JSON.stringify(EVENT, null, 2);

export const stripe = new Stripe('sk_test_x');

/** What a verifier did with one input: accepted (with the secret index) or rejected (with the code). */
export type Outcome =
  | { ok: true; matchedSecretIndex: number; timestamp: number }
  | { ok: false; code: WebhookSignatureErrorCode; skewSeconds?: number; message: string };

function fromError(err: unknown): Outcome {
  if (!(err instanceof WebhookSignatureError)) throw err;
  return {
    ok: false,
    code: err.code,
    message: err.message,
    ...(err.skewSeconds === undefined ? {} : { skewSeconds: err.skewSeconds }),
  };
}

export function outcomeOf(run: () => { matchedSecretIndex: number; timestamp: number }): Outcome {
  try {
    return { ok: true, ...run() };
  } catch (err) {
    return fromError(err);
  }
}

export async function outcomeOfAsync(
  run: () => Promise<{ matchedSecretIndex: number; timestamp: number }>,
): Promise<Outcome> {
  try {
    return { ok: true, ...(await run()) };
  } catch (err) {
    return fromError(err);
  }
}

/** stripe-node's verdict for the same input, received at `NOW_MS`. */
export function stripeAccepts(
  payload: unknown,
  header: unknown,
  secret: string,
  tolerance?: number,
): boolean {
  try {
    stripe.webhooks.constructEvent(payload as string, header as string, secret, tolerance, undefined, NOW_MS);
    return true;
  } catch {
    return false;
  }
}
