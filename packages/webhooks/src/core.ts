// Checks and diagnostics shared by the node:crypto (sync) and Web Crypto
// (async) paths. Only the HMAC and the byte comparison differ between the
// two, so everything else lives here, free of runtime-specific imports.
import { WebhookSignatureError } from './errors.js';
import { formatSignatureHeader, parseSignatureHeader, type SignatureEntry, v1Signatures } from './header.js';

/** Default maximum distance, in seconds, between a signature's `t` and now, on either side. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The raw request body, exactly as received: a string or its bytes (a Node `Buffer` is a `Uint8Array`). */
export type WebhookPayload = string | Uint8Array;

/** A signature header as frameworks type it (node's `IncomingHttpHeaders` allows an array). */
export type SignatureHeaderInput = string | string[] | undefined;

export interface VerifyOptions {
  /**
   * Maximum |now − t| in seconds, checked for both old and future
   * timestamps. Default 300. Must be positive; `Infinity` disables the
   * check. 0, negative numbers and NaN are refused.
   */
  tolerance?: number;
  /** Current time in milliseconds. Defaults to `Date.now`; pass a fixed clock in tests. */
  now?: () => number;
}

export interface VerifiedSignature {
  /** The header's `t`, in unix seconds. */
  timestamp: number;
  /** Which of the given secrets produced a matching `v1` (0 for a single secret). */
  matchedSecretIndex: number;
}

export interface BuildSignatureHeaderOptions {
  /** The exact body that will be sent. */
  payload: WebhookPayload;
  /** Active signing secrets, each producing one `v1`, in this order. */
  secrets: string[];
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** Further `scheme: value` pairs appended after the `v1`s, e.g. `{ v0: '…' }`. Never `t` or `v1`. */
  extraSchemes?: Record<string, string>;
}

export interface TestHeaderOptions {
  payload: WebhookPayload;
  secret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Defaults to `v1`; use e.g. `v0` to check that a receiver refuses other schemes. */
  scheme?: string;
}

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `${t}.` — the part of the signed message that precedes the payload. */
export function signedPrefix(timestamp: number): string {
  return `${timestamp}.`;
}

/** The full signed message as one byte array, for APIs that cannot stream (Web Crypto). */
export function signedMessage(payload: WebhookPayload, timestamp: number): Uint8Array {
  const prefix = utf8(signedPrefix(timestamp));
  const body = typeof payload === 'string' ? utf8(payload) : payload;
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix, 0);
  message.set(body, prefix.length);
  return message;
}

const HEX_DIGITS = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
  return hex;
}

// A v1 signature is exactly 32 bytes; any other value can never match, so
// it is not worth decoding (and an attacker cannot make us decode megabytes).
const V1_HEX = /^[0-9a-fA-F]{64}$/;

/** Decodes a `v1` value to its 32 bytes, or null if it is not 64 hex digits. */
export function decodeSignature(value: string): Uint8Array | null {
  if (!V1_HEX.test(value)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Number.parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Compares two byte arrays in time that depends only on their length. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** True when `expected` equals any candidate; every candidate is compared so timing does not reveal which. */
export function matchesAnyCandidate(
  candidates: readonly Uint8Array[],
  expected: Uint8Array,
  equal: (a: Uint8Array, b: Uint8Array) => boolean,
): boolean {
  let found = false;
  for (const candidate of candidates) {
    if (candidate.length === expected.length && equal(candidate, expected)) found = true;
  }
  return found;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof ArrayBuffer) return 'an ArrayBuffer';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Throws `payload_not_raw` unless the payload is the raw body (string or bytes). */
export function assertRawPayload(payload: unknown): asserts payload is WebhookPayload {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return;
  let message = `The webhook payload must be the raw request body as a string or Buffer/Uint8Array, but got ${kindOf(payload)}. `;
  if (payload instanceof ArrayBuffer) {
    message += 'Wrap it as new Uint8Array(body).';
  } else if (payload !== null && typeof payload === 'object') {
    message +=
      'It looks like an already parsed JSON body: a JSON body parser (e.g. express.json()) ran before the webhook ' +
      'route. Signatures cover the exact bytes sent, so read the raw body for this route ' +
      "(e.g. express.raw({ type: 'application/json' })) and parse it after verification.";
  } else {
    message += 'Make sure the route reads the body before verifying it.';
  }
  throw new WebhookSignatureError('payload_not_raw', message);
}

/** Accepts one secret or a list (during rotation) and returns the list; throws `invalid_secret` on unusable input. */
export function normalizeSecrets(secret: unknown): string[] {
  if (secret === undefined || secret === null) {
    throw new WebhookSignatureError(
      'invalid_secret',
      `The webhook signing secret is ${secret}: the environment variable or setting that should hold it is probably not set.`,
    );
  }
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) {
    throw new WebhookSignatureError('invalid_secret', 'The list of webhook signing secrets is empty.');
  }
  for (const [index, item] of secrets.entries()) {
    const which = Array.isArray(secret) ? `secret[${index}]` : 'The webhook signing secret';
    if (typeof item !== 'string') {
      throw new WebhookSignatureError(
        'invalid_secret',
        `${which} must be a string (whsec_…), got ${kindOf(item)}.`,
      );
    }
    if (item.length === 0) {
      throw new WebhookSignatureError(
        'invalid_secret',
        `${which} is an empty string: the environment variable or setting that should hold it is probably empty.`,
      );
    }
  }
  return secrets as string[];
}

/** Validates verification options; a bad tolerance is refused rather than silently disabling the check. */
export function resolveOptions(options: unknown): { tolerance: number; now: () => number } {
  if (options === undefined) return { tolerance: DEFAULT_TOLERANCE_SECONDS, now: Date.now };
  if (typeof options === 'number') {
    throw new WebhookSignatureError(
      'invalid_options',
      `Options must be an object: pass { tolerance: ${options} } rather than a bare number.`,
    );
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new WebhookSignatureError(
      'invalid_options',
      `Options must be an object like { tolerance, now }, got ${kindOf(options)}.`,
    );
  }
  const { tolerance = DEFAULT_TOLERANCE_SECONDS, now = Date.now } = options as Record<string, unknown>;
  // `> 0` is false for NaN, so NaN is refused along with 0 and negatives.
  if (typeof tolerance !== 'number' || !(tolerance > 0)) {
    throw new WebhookSignatureError(
      'invalid_options',
      'The tolerance must be a positive number of seconds (default 300). Pass Infinity to disable the timestamp ' +
        'check explicitly; 0, negative numbers and NaN are refused so the check is never turned off by accident.',
    );
  }
  if (typeof now !== 'function') {
    throw new WebhookSignatureError(
      'invalid_options',
      'The now option must be a function returning milliseconds.',
    );
  }
  return { tolerance, now: now as () => number };
}

/** Reduces whatever the framework handed over to one header string. */
export function normalizeHeader(header: unknown): string {
  if (header === undefined || header === null) {
    throw new WebhookSignatureError(
      'missing_header',
      'The request has no Stripe-Signature header: it was not signed, or a proxy removed the header.',
    );
  }
  if (Array.isArray(header)) {
    if (header.length === 0) return normalizeHeader(undefined);
    const [first] = header;
    if (typeof first !== 'string' || header.some((h) => h !== first)) {
      throw new WebhookSignatureError(
        'malformed_header',
        `The request carries ${header.length} different Stripe-Signature headers; a sender sets exactly one, ` +
          'so the request was duplicated or altered on the way.',
      );
    }
    return normalizeHeader(first);
  }
  if (typeof header !== 'string') {
    throw new WebhookSignatureError(
      'malformed_header',
      `The Stripe-Signature header must be a string, got ${kindOf(header)}.`,
    );
  }
  if (header.trim() === '') {
    throw new WebhookSignatureError(
      'missing_header',
      'The Stripe-Signature header is empty: the request was not signed, or a proxy cleared the header.',
    );
  }
  return header;
}

/** Everything verification needs once the inputs have been checked and the header parsed. */
export interface VerificationContext {
  payload: WebhookPayload;
  header: string;
  timestamp: number;
  /** Decoded `v1` values; values that are not 64 hex digits are left out. */
  candidates: Uint8Array[];
  /** How many `v1` values the header had, decodable or not. */
  v1Count: number;
  secrets: string[];
  tolerance: number;
  nowMs: number;
}

/** Runs every check that does not need an HMAC, in a fixed order: options, secret, payload, header. */
export function prepareVerification(
  payload: unknown,
  headerInput: unknown,
  secret: unknown,
  options: unknown,
): VerificationContext {
  const { tolerance, now } = resolveOptions(options);
  const secrets = normalizeSecrets(secret);
  assertRawPayload(payload);
  const header = normalizeHeader(headerInput);
  const parsed = parseSignatureHeader(header);
  if (parsed.timestamp === null) {
    throw new WebhookSignatureError(
      'malformed_header',
      parsed.signatures.length === 0
        ? 'The Stripe-Signature header is not in the expected t=<unix seconds>,v1=<hex> form.'
        : 'The Stripe-Signature header has no valid t=<unix seconds> timestamp.',
      { header },
    );
  }
  const v1 = v1Signatures(parsed);
  if (v1.length === 0) {
    const schemes = [...new Set(parsed.signatures.map((s) => s.scheme))];
    throw new WebhookSignatureError(
      'no_v1_signature',
      schemes.length === 0
        ? 'The Stripe-Signature header has a timestamp but no signatures.'
        : `The Stripe-Signature header has no v1 signature, only ${schemes.join(', ')}. Only v1 is accepted: other ` +
            'schemes (such as the placeholder v0 of test-mode events) are ignored, so a sender cannot be ' +
            'downgraded to a weaker check.',
      { header },
    );
  }
  const nowMs = now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new WebhookSignatureError(
      'invalid_options',
      'The now option must return a finite number of milliseconds.',
      {
        header,
      },
    );
  }
  const candidates: Uint8Array[] = [];
  for (const value of v1) {
    const decoded = decodeSignature(value);
    if (decoded) candidates.push(decoded);
  }
  return {
    payload,
    header,
    timestamp: parsed.timestamp,
    candidates,
    v1Count: v1.length,
    secrets,
    tolerance,
    nowMs,
  };
}

/** A plausible fix for a secret, tried only after a mismatch so the error can say whether it would have worked. */
export interface SecretRepair {
  index: number;
  kind: 'trimmed' | 'prefixed';
  secret: string;
}

// Secrets are accepted as given: one with whitespace may well be what the
// sender signed with, so whitespace is diagnosed on mismatch, not refused.
export function secretRepairs(secrets: readonly string[]): SecretRepair[] {
  const repairs: SecretRepair[] = [];
  secrets.forEach((secret, index) => {
    const trimmed = secret.trim();
    if (trimmed === '') return;
    if (trimmed !== secret) repairs.push({ index, kind: 'trimmed', secret: trimmed });
    if (!trimmed.startsWith('whsec_')) repairs.push({ index, kind: 'prefixed', secret: `whsec_${trimmed}` });
  });
  return repairs;
}

/**
 * The payload as Stripe formats webhook bodies (two-space indent), when it is
 * JSON formatted some other way: what a re-serialised body (`JSON.stringify(req.body)`)
 * was before. Tried only after a mismatch, so the error can say so.
 */
export function stripeFormattedPayload(payload: WebhookPayload): string | null {
  const text = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const formatted = JSON.stringify(value, null, 2);
  return formatted === text ? null : formatted;
}

function whitespaceKind(secret: string): string {
  if (/\r?\n$/.test(secret)) return 'a trailing newline (typical of a value read from a .env file or a file)';
  if (/\s$/.test(secret)) return 'trailing whitespace';
  return 'leading whitespace';
}

/**
 * Builds the `signature_mismatch` error, naming the likeliest mistakes.
 * `confirmed` lists the repairs that do produce a matching signature.
 */
export function mismatchError(
  ctx: VerificationContext,
  confirmed: readonly SecretRepair[],
  reserialized = false,
): WebhookSignatureError {
  const name = (index: number) => (ctx.secrets.length === 1 ? 'The secret' : `secret[${index}]`);
  const hints: string[] = [];
  for (const repair of confirmed) {
    const secret = ctx.secrets[repair.index]!;
    hints.push(
      repair.kind === 'trimmed'
        ? `${name(repair.index)} has ${whitespaceKind(secret)}; with it removed the signature matches. ` +
            'Trim the secret where it is loaded.'
        : `${name(repair.index)} lacks the whsec_ prefix; with it the signature matches. ` +
            'The HMAC key is the whole secret string, prefix included.',
    );
  }
  if (reserialized) {
    hints.push(
      'The payload was parsed and serialised again: the same JSON formatted as the sender formats it ' +
        '(two-space indent) matches the signature. Verify the raw request body exactly as received, ' +
        'not JSON.stringify(req.body); a JSON body parser (e.g. express.json()) must not run before the webhook route.',
    );
  } else if (confirmed.length === 0) {
    hints.push(
      'Verify the raw request body exactly as received: a JSON body parser (e.g. express.json()) running before ' +
        'the webhook route, or a proxy re-encoding the body, changes the bytes.',
    );
    ctx.secrets.forEach((secret, index) => {
      if (secret.trim() !== secret && secret.trim() !== '') {
        hints.push(`${name(index)} has ${whitespaceKind(secret)}, for example from a .env file.`);
      }
      if (/^(sk|rk|pk)_/.test(secret)) {
        hints.push(`${name(index)} looks like an API key, not a webhook signing secret (whsec_…).`);
      } else if (!secret.trim().startsWith('whsec_')) {
        hints.push(
          `${name(index)} does not start with whsec_: use the endpoint's signing secret as shown, prefix included.`,
        );
      }
    });
    if (ctx.candidates.length < ctx.v1Count) {
      hints.push('Some v1 values are not 64 hex digits: the header was truncated or altered on the way.');
    }
    if (ctx.secrets.length > 1) {
      hints.push(`None of the ${ctx.secrets.length} secrets matched.`);
    }
  }
  return new WebhookSignatureError(
    'signature_mismatch',
    `No v1 signature in the Stripe-Signature header matches the payload. ${hints.join(' ')}`,
    { header: ctx.header },
  );
}

/** Applies the tolerance to both sides of now, once a signature has matched. */
export function checkTimestamp(ctx: VerificationContext, matchedSecretIndex: number): VerifiedSignature {
  const skewSeconds = Math.floor(ctx.nowMs / 1000) - ctx.timestamp;
  if (skewSeconds > ctx.tolerance) {
    throw new WebhookSignatureError(
      'timestamp_too_old',
      `The signature timestamp t=${ctx.timestamp} is ${skewSeconds} s older than this machine's clock, beyond ` +
        `the ${ctx.tolerance} s tolerance: a replayed or long-delayed request, or this machine's clock is ahead ` +
        '(check NTP).',
      { skewSeconds, header: ctx.header },
    );
  }
  if (-skewSeconds > ctx.tolerance) {
    throw new WebhookSignatureError(
      'timestamp_in_future',
      `The signature timestamp t=${ctx.timestamp} is ${-skewSeconds} s ahead of this machine's clock, beyond ` +
        `the ${ctx.tolerance} s tolerance: this machine's clock is probably behind, or the sender's ahead ` +
        '(check NTP on both).',
      { skewSeconds, header: ctx.header },
    );
  }
  return { timestamp: ctx.timestamp, matchedSecretIndex };
}

/** Parses a verified payload as a JSON object; anything else is `invalid_payload`. */
export function parseEvent<T>(payload: WebhookPayload, header: string): T {
  let text: string;
  if (typeof payload === 'string') {
    text = payload.charCodeAt(0) === 0xfeff ? payload.slice(1) : payload;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    } catch (cause) {
      throw new WebhookSignatureError('invalid_payload', 'The verified payload is not valid UTF-8.', {
        header,
        cause,
      });
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new WebhookSignatureError(
      'invalid_payload',
      'The signature is valid but the payload is not valid JSON.',
      {
        header,
        cause,
      },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WebhookSignatureError(
      'invalid_payload',
      'The signature is valid but the payload is not a JSON object, so it is not an event.',
      { header },
    );
  }
  // The shape is the sender's contract; it is not re-validated here.
  return value as T;
}

/** Throws `invalid_options` unless `timestamp` is plausible unix seconds for signing. */
export function assertSigningTimestamp(timestamp: unknown): asserts timestamp is number {
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new WebhookSignatureError(
      'invalid_options',
      'The signature timestamp must be a non-negative integer number of unix seconds, e.g. Math.floor(Date.now() / 1000).',
    );
  }
  // 1e11 seconds is the year 5138: such a value is almost surely milliseconds.
  if (timestamp >= 1e11) {
    throw new WebhookSignatureError(
      'invalid_options',
      `The signature timestamp ${timestamp} looks like milliseconds; pass unix seconds, e.g. Math.floor(Date.now() / 1000).`,
    );
  }
}

/** Checks the inputs of a single signature computation and returns them typed. */
export function prepareCompute(
  payload: unknown,
  secret: unknown,
  timestamp: unknown,
): { payload: WebhookPayload; secret: string; timestamp: number } {
  assertRawPayload(payload);
  if (Array.isArray(secret)) {
    throw new WebhookSignatureError(
      'invalid_secret',
      'Pass a single secret string to compute one signature.',
    );
  }
  const [checkedSecret] = normalizeSecrets(secret);
  assertSigningTimestamp(timestamp);
  return { payload, secret: checkedSecret!, timestamp };
}

export interface SigningPlan {
  payload: WebhookPayload;
  secrets: string[];
  timestamp: number;
  extras: SignatureEntry[];
}

/** Checks the inputs of `buildSignatureHeader` before any HMAC is computed. */
export function prepareSigning(options: unknown): SigningPlan {
  if (options === null || typeof options !== 'object') {
    throw new WebhookSignatureError('invalid_options', 'Pass an object { payload, secrets, timestamp }.');
  }
  const { payload, secrets, timestamp, extraSchemes } = options as Record<string, unknown>;
  assertRawPayload(payload);
  if (!Array.isArray(secrets)) {
    throw new WebhookSignatureError(
      'invalid_secret',
      'secrets must be an array of signing secrets (one v1 signature is produced per secret).',
    );
  }
  const checkedSecrets = normalizeSecrets(secrets);
  assertSigningTimestamp(timestamp);
  const extras: SignatureEntry[] = [];
  if (extraSchemes !== undefined) {
    if (extraSchemes === null || typeof extraSchemes !== 'object' || Array.isArray(extraSchemes)) {
      throw new WebhookSignatureError('invalid_options', 'extraSchemes must be an object of scheme → value.');
    }
    for (const [scheme, value] of Object.entries(extraSchemes)) {
      if (scheme === 'v1' || scheme === 't') {
        throw new WebhookSignatureError(
          'invalid_options',
          `extraSchemes cannot set ${scheme}: it is computed from the secrets and timestamp.`,
        );
      }
      if (typeof value !== 'string') {
        throw new WebhookSignatureError('invalid_options', `extraSchemes.${scheme} must be a string.`);
      }
      extras.push({ scheme, value });
    }
  }
  return { payload, secrets: checkedSecrets, timestamp, extras };
}

/** The header for a plan, given its `v1` values in secret order. */
export function assembleHeader(plan: SigningPlan, v1Values: readonly string[]): string {
  const entries: SignatureEntry[] = v1Values.map((value) => ({ scheme: 'v1', value }));
  return formatSignatureHeader(plan.timestamp, [...entries, ...plan.extras]);
}

/** Fills in the defaults of `generateTestHeader`. */
export function prepareTestHeader(options: unknown): Required<TestHeaderOptions> {
  if (options === null || typeof options !== 'object') {
    throw new WebhookSignatureError('invalid_options', 'Pass an object { payload, secret }.');
  }
  const {
    payload,
    secret,
    timestamp = Math.floor(Date.now() / 1000),
    scheme = 'v1',
  } = options as Record<string, unknown>;
  const checked = prepareCompute(payload, secret, timestamp);
  if (typeof scheme !== 'string') {
    throw new WebhookSignatureError('invalid_options', 'scheme must be a string such as v1.');
  }
  return { ...checked, scheme };
}
