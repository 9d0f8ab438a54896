import { timingSafeEqual } from 'node:crypto';
import {
  checkTimestamp,
  matchesAnyCandidate,
  mismatchError,
  parseEvent,
  prepareVerification,
  type SignatureHeaderInput,
  secretRepairs,
  stripeFormattedPayload,
  type VerificationContext,
  type VerifiedSignature,
  type VerifyOptions,
  type WebhookPayload,
} from './core.js';
import type { WebhookEvent } from './events.js';
import { signatureDigest } from './signature.js';

function verified(
  payload: unknown,
  header: unknown,
  secret: unknown,
  options: unknown,
): { ctx: VerificationContext; result: VerifiedSignature } {
  const ctx = prepareVerification(payload, header, secret, options);
  const matchesPayload = (body: WebhookPayload, key: string) =>
    matchesAnyCandidate(ctx.candidates, signatureDigest(body, key, ctx.timestamp), timingSafeEqual);
  const matches = (key: string) => matchesPayload(ctx.payload, key);
  const index = ctx.secrets.findIndex(matches);
  if (index < 0) {
    const original = stripeFormattedPayload(ctx.payload);
    throw mismatchError(
      ctx,
      secretRepairs(ctx.secrets).filter((repair) => matches(repair.secret)),
      original !== null && ctx.secrets.some((key) => matchesPayload(original, key)),
    );
  }
  return { ctx, result: checkTimestamp(ctx, index) };
}

/**
 * Verifies a signed webhook without parsing it: some `v1` in the header
 * must match the payload under one of the secrets, and `t` must lie within
 * `tolerance` seconds of now on either side. Throws {@link WebhookSignatureError}.
 *
 * @example
 * const { matchedSecretIndex } = verifySignature(rawBody, req.headers['stripe-signature'], [current, previous]);
 */
export function verifySignature(
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  secret: string | string[],
  options?: VerifyOptions,
): VerifiedSignature {
  return verified(payload, header, secret, options).result;
}

/**
 * Verifies a signed webhook (see {@link verifySignature}) and returns the
 * parsed event. Pass the raw body exactly as received, never a parsed object.
 *
 * @example
 * app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
 *   const event = constructEvent(req.body, req.headers['stripe-signature'], process.env.WEBHOOK_SECRET!);
 *   res.sendStatus(200);
 * });
 */
export function constructEvent<T = WebhookEvent>(
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  secret: string | string[],
  options?: VerifyOptions,
): T {
  const { ctx } = verified(payload, header, secret, options);
  return parseEvent<T>(ctx.payload, ctx.header);
}
