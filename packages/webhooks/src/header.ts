import { WebhookSignatureError } from './errors.js';

/** One `scheme=value` pair of a signature header, e.g. `{ scheme: 'v1', value: '5257a8…' }`. */
export interface SignatureEntry {
  scheme: string;
  value: string;
}

/** A signature header split into its timestamp and signatures, in header order. */
export interface ParsedSignatureHeader {
  /** Unix seconds from the first valid `t=` pair, or null when there is none. */
  timestamp: number | null;
  signatures: SignatureEntry[];
}

// Scheme names are short tokens; anything else is treated as junk rather
// than guessed at, so a garbled header cannot smuggle in a "v1".
const SCHEME = /^[A-Za-z0-9_-]+$/;
// Printable ASCII without spaces or commas: the alphabet a value can have
// once the header has been split on commas.
const VALUE = /^[\x21-\x2b\x2d-\x7e]+$/;
// At most 16 digits keeps the value within Number's exact integer range
// before the safe-integer check.
const TIMESTAMP = /^[0-9]{1,16}$/;

/**
 * Splits a `Stripe-Signature` header into its timestamp and signatures.
 * Tolerant by design: whitespace around pairs is ignored, pairs that are
 * not `key=value` (or have an unusable key or value) are skipped, and only
 * the first valid `t` counts. Never throws, whatever it is given.
 *
 * @example
 * parseSignatureHeader('t=1492774577,v1=5257a8,v0=6ffbb5');
 * // { timestamp: 1492774577, signatures: [{ scheme: 'v1', value: '5257a8' }, { scheme: 'v0', value: '6ffbb5' }] }
 */
export function parseSignatureHeader(header: string): ParsedSignatureHeader {
  const parsed: ParsedSignatureHeader = { timestamp: null, signatures: [] };
  if (typeof header !== 'string') return parsed;
  for (const rawPair of header.split(',')) {
    const eq = rawPair.indexOf('=');
    if (eq <= 0) continue;
    const key = rawPair.slice(0, eq).trim();
    const value = rawPair.slice(eq + 1).trim();
    if (!SCHEME.test(key) || !VALUE.test(value)) continue;
    if (key === 't') {
      if (parsed.timestamp === null && TIMESTAMP.test(value)) {
        const timestamp = Number(value);
        if (Number.isSafeInteger(timestamp)) parsed.timestamp = timestamp;
      }
      continue;
    }
    parsed.signatures.push({ scheme: key, value });
  }
  return parsed;
}

/**
 * The values of the `v1` signatures: the only scheme a receiver may trust.
 * Everything else (notably the placeholder `v0` of test-mode events) is
 * ignored so a sender cannot be talked down to a weaker scheme.
 */
export function v1Signatures(parsed: ParsedSignatureHeader): string[] {
  return parsed.signatures.filter((s) => s.scheme === 'v1').map((s) => s.value);
}

/**
 * Serialises a timestamp and signatures as `t=…,scheme=value,…` (no spaces),
 * the inverse of {@link parseSignatureHeader} for well-formed input.
 * Throws `invalid_options` for a timestamp that is not a non-negative
 * integer, or a scheme/value that would not survive parsing.
 *
 * @example
 * formatSignatureHeader(1492774577, [{ scheme: 'v1', value: '5257a8' }]); // 't=1492774577,v1=5257a8'
 */
export function formatSignatureHeader(timestamp: number, signatures: readonly SignatureEntry[]): string {
  assertUnixSeconds(timestamp);
  let header = `t=${timestamp}`;
  for (const entry of signatures) {
    if (entry.scheme === 't' || !SCHEME.test(entry.scheme)) {
      throw new WebhookSignatureError(
        'invalid_options',
        `Signature scheme ${JSON.stringify(entry.scheme)} is not usable: use a token of letters, digits, '_' or '-', other than 't'.`,
      );
    }
    if (!VALUE.test(entry.value)) {
      throw new WebhookSignatureError(
        'invalid_options',
        `The ${entry.scheme} signature value must be non-empty printable ASCII without spaces or commas.`,
      );
    }
    header += `,${entry.scheme}=${entry.value}`;
  }
  return header;
}

function assertUnixSeconds(timestamp: unknown): asserts timestamp is number {
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new WebhookSignatureError(
      'invalid_options',
      'The signature timestamp must be a non-negative integer number of unix seconds, e.g. Math.floor(Date.now() / 1000).',
    );
  }
}
