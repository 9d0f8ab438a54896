import { createHmac } from 'node:crypto';
import {
  assembleHeader,
  type BuildSignatureHeaderOptions,
  prepareCompute,
  prepareSigning,
  signedPrefix,
  type WebhookPayload,
} from './core.js';

// Streams the prefix and then the payload into the HMAC: concatenating a
// large Buffer body into one string first is several times slower and, for
// bytes that are not valid UTF-8, would change what is signed.
/** @internal Raw HMAC bytes for already-validated inputs. */
export function signatureDigest(payload: WebhookPayload, secret: string, timestamp: number): Buffer {
  const hmac = createHmac('sha256', secret).update(signedPrefix(timestamp));
  if (typeof payload === 'string') hmac.update(payload, 'utf8');
  else hmac.update(payload);
  return hmac.digest();
}

/**
 * The `v1` signature of a payload: lowercase hex HMAC-SHA256, keyed with the
 * whole secret string (UTF-8, `whsec_` included), over `${timestamp}.` followed
 * by the payload bytes. `timestamp` is unix seconds.
 *
 * @example
 * computeSignature('{"id":"evt_1"}', 'whsec_abc', 1700000000); // '3f1c…' (64 hex digits)
 */
export function computeSignature(payload: WebhookPayload, secret: string, timestamp: number): string {
  const checked = prepareCompute(payload, secret, timestamp);
  return signatureDigest(checked.payload, checked.secret, checked.timestamp).toString('hex');
}

/**
 * The `Stripe-Signature` header for one delivery attempt:
 * `t=…,v1=…[,v1=…][,scheme=…]`, one `v1` per secret in the given order (so
 * receivers keep verifying while a secret is rotated), then `extraSchemes`.
 *
 * @example
 * buildSignatureHeader({ payload: body, secrets: ['whsec_new', 'whsec_old'], timestamp: 1700000000 });
 * // 't=1700000000,v1=…,v1=…'
 */
export function buildSignatureHeader(options: BuildSignatureHeaderOptions): string {
  const plan = prepareSigning(options);
  return assembleHeader(
    plan,
    plan.secrets.map((secret) => signatureDigest(plan.payload, secret, plan.timestamp).toString('hex')),
  );
}
