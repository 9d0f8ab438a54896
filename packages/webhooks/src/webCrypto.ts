// The async API on Web Crypto, for runtimes without node:crypto (edge
// workers, Deno, Bun, browsers): the same checks as the sync API, with the
// HMAC done by Web Crypto. Nothing reachable from this module may import a
// node: builtin.
import {
  assembleHeader,
  type BuildSignatureHeaderOptions,
  checkTimestamp,
  constantTimeEqual,
  matchesAnyCandidate,
  mismatchError,
  parseEvent,
  prepareCompute,
  prepareSigning,
  prepareTestHeader,
  prepareVerification,
  type SignatureHeaderInput,
  secretRepairs,
  signedMessage,
  stripeFormattedPayload,
  type TestHeaderOptions,
  toHex,
  utf8,
  type VerificationContext,
  type VerifiedSignature,
  type VerifyOptions,
  type WebhookPayload,
} from './core.js';
import type { WebhookEvent } from './events.js';
import { formatSignatureHeader } from './header.js';

// The few Web Crypto members used, typed locally so the declarations do not
// depend on DOM or Node type libraries.
interface HmacSubtle {
  importKey(
    format: 'raw',
    keyData: Uint8Array,
    algorithm: { name: 'HMAC'; hash: 'SHA-256' },
    extractable: false,
    keyUsages: ['sign'],
  ): Promise<unknown>;
  sign(algorithm: 'HMAC', key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): HmacSubtle {
  const crypto = (globalThis as { crypto?: { subtle?: HmacSubtle } }).crypto;
  if (!crypto?.subtle) {
    throw new Error('Web Crypto (globalThis.crypto.subtle) is not available in this runtime.');
  }
  return crypto.subtle;
}

// Imported keys by secret: importing costs more than signing a small payload, and a receiver verifies
// with the same one or two secrets all day. Bounded so a caller cycling through secrets cannot grow it.
const KEY_CACHE_SIZE = 16;
const keys = new Map<string, Promise<unknown>>();

function hmacKey(api: HmacSubtle, secret: string): Promise<unknown> {
  let key = keys.get(secret);
  if (key === undefined) {
    key = api.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    // A failed import is not kept: the next call tries again.
    key.catch(() => keys.delete(secret));
    if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value as string);
    keys.set(secret, key);
  }
  return key;
}

async function hmacSha256(secret: string, message: Uint8Array): Promise<Uint8Array> {
  const api = subtle();
  return new Uint8Array(await api.sign('HMAC', await hmacKey(api, secret), message));
}

/**
 * Async {@link computeSignature} on Web Crypto: lowercase hex HMAC-SHA256 of
 * `${timestamp}.` + payload, keyed with the whole secret string.
 */
export async function computeSignatureAsync(
  payload: WebhookPayload,
  secret: string,
  timestamp: number,
): Promise<string> {
  const checked = prepareCompute(payload, secret, timestamp);
  return toHex(await hmacSha256(checked.secret, signedMessage(checked.payload, checked.timestamp)));
}

/**
 * Async {@link buildSignatureHeader} on Web Crypto: `t=…,v1=…` with one `v1`
 * per secret, in order, then `extraSchemes`.
 */
export async function buildSignatureHeaderAsync(options: BuildSignatureHeaderOptions): Promise<string> {
  const plan = prepareSigning(options);
  const message = signedMessage(plan.payload, plan.timestamp);
  const values = await Promise.all(
    plan.secrets.map(async (secret) => toHex(await hmacSha256(secret, message))),
  );
  return assembleHeader(plan, values);
}

async function verified(
  payload: unknown,
  header: unknown,
  secret: unknown,
  options: unknown,
): Promise<{ ctx: VerificationContext; result: VerifiedSignature }> {
  const ctx = prepareVerification(payload, header, secret, options);
  const message = signedMessage(ctx.payload, ctx.timestamp);
  const matchesMessage = async (signed: Uint8Array, key: string) =>
    matchesAnyCandidate(ctx.candidates, await hmacSha256(key, signed), constantTimeEqual);
  const matches = (key: string) => matchesMessage(message, key);
  for (const [index, key] of ctx.secrets.entries()) {
    if (await matches(key)) return { ctx, result: checkTimestamp(ctx, index) };
  }
  const repairs = secretRepairs(ctx.secrets);
  const confirmed = await Promise.all(repairs.map((repair) => matches(repair.secret)));
  const original = stripeFormattedPayload(ctx.payload);
  const originalMessage = original === null ? null : signedMessage(original, ctx.timestamp);
  const reserialized =
    originalMessage !== null &&
    (await Promise.all(ctx.secrets.map((key) => matchesMessage(originalMessage, key)))).some(Boolean);
  throw mismatchError(
    ctx,
    repairs.filter((_, i) => confirmed[i]),
    reserialized,
  );
}

/**
 * Async {@link verifySignature} on Web Crypto, with identical verdicts and
 * errors. Resolves to the timestamp and the index of the matching secret.
 */
export async function verifySignatureAsync(
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  secret: string | string[],
  options?: VerifyOptions,
): Promise<VerifiedSignature> {
  return (await verified(payload, header, secret, options)).result;
}

/**
 * Async {@link constructEvent} on Web Crypto: verifies, then parses the event.
 *
 * @example
 * export default {
 *   async fetch(request, env) {
 *     const body = new Uint8Array(await request.arrayBuffer());
 *     const event = await constructEventAsync(body, request.headers.get('stripe-signature') ?? undefined, env.WEBHOOK_SECRET);
 *     return new Response(null, { status: 200 });
 *   },
 * };
 */
export async function constructEventAsync<T = WebhookEvent>(
  payload: WebhookPayload,
  header: SignatureHeaderInput,
  secret: string | string[],
  options?: VerifyOptions,
): Promise<T> {
  const { ctx } = await verified(payload, header, secret, options);
  return parseEvent<T>(ctx.payload, ctx.header);
}

/** Async {@link generateTestHeader} on Web Crypto, for tests running outside Node. */
export async function generateTestHeaderAsync(options: TestHeaderOptions): Promise<string> {
  const { payload, secret, timestamp, scheme } = prepareTestHeader(options);
  const value = await computeSignatureAsync(payload, secret, timestamp);
  return formatSignatureHeader(timestamp, [{ scheme, value }]);
}
