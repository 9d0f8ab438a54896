import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildSignatureHeader,
  computeSignature,
  constructEvent,
  generateTestHeader,
  isWebhookSignatureError,
  verifySignature,
  type WebhookEvent,
  WebhookSignatureError,
  type WebhookSignatureErrorCode,
} from '../src/index.js';
import { constructEventAsync, verifySignatureAsync } from '../src/web.js';
import {
  BODY,
  EVENT,
  fixedNow,
  NOW_MS,
  NOW_S,
  OTHER_SECRET,
  outcomeOf,
  outcomeOfAsync,
  SECRET,
  stripeAccepts,
} from './support.js';

const sign = (timestamp = NOW_S, secrets = [SECRET], payload: string | Uint8Array = BODY) =>
  buildSignatureHeader({ payload, secrets, timestamp });
const v1 = (secret: string, timestamp = NOW_S, payload: string | Uint8Array = BODY) =>
  computeSignature(payload, secret, timestamp);
const nonUtf8 = new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x7d]);

interface Case {
  name: string;
  payload?: unknown;
  header: unknown;
  secret?: unknown;
  options?: unknown;
  expect: { index: number } | { code: WebhookSignatureErrorCode; skew?: number; message?: RegExp };
  /** stripe-node's verdict on the same input, where its API can express it. */
  stripe?: 'accepts' | 'rejects';
}

const cases: Case[] = [
  { name: 'valid string payload', header: sign(), expect: { index: 0 }, stripe: 'accepts' },
  {
    name: 'valid Buffer payload',
    payload: Buffer.from(BODY),
    header: sign(),
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    // A view that does not start at offset 0 of its ArrayBuffer.
    name: 'Uint8Array view into a larger buffer',
    payload: Buffer.from(`xx${BODY}yy`).subarray(2, 2 + Buffer.byteLength(BODY)),
    header: sign(),
    expect: { index: 0 },
  },
  {
    name: 'bytes that are not UTF-8 are verified as bytes',
    payload: nonUtf8,
    header: sign(NOW_S, [SECRET], nonUtf8),
    expect: { index: 0 },
  },
  {
    name: 'tampered body',
    payload: BODY.replace('"charges_enabled": true', '"charges_enabled": false'),
    header: sign(),
    expect: { code: 'signature_mismatch', message: /raw request body/ },
    stripe: 'rejects',
  },
  {
    name: 're-serialised body (a JSON parser ran first)',
    payload: JSON.stringify(JSON.parse(BODY)),
    header: sign(),
    expect: { code: 'signature_mismatch', message: /JSON body parser/ },
    stripe: 'rejects',
  },
  {
    name: 'wrong secret',
    header: sign(NOW_S, [OTHER_SECRET]),
    expect: { code: 'signature_mismatch' },
    stripe: 'rejects',
  },
  {
    name: 'stale timestamp (301 s old)',
    header: sign(NOW_S - 301),
    expect: { code: 'timestamp_too_old', skew: 301, message: /301 s older .*300 s tolerance/ },
    stripe: 'rejects',
  },
  {
    name: 'exactly at the tolerance (300 s old)',
    header: sign(NOW_S - 300),
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'future timestamp (301 s ahead): rejected here, accepted by stripe-node',
    header: sign(NOW_S + 301),
    expect: { code: 'timestamp_in_future', skew: -301, message: /301 s ahead of this machine's clock/ },
    stripe: 'accepts',
  },
  {
    name: 'slightly in the future (300 s ahead)',
    header: sign(NOW_S + 300),
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'custom tolerance',
    header: sign(NOW_S - 100),
    options: { tolerance: 60, now: fixedNow },
    expect: { code: 'timestamp_too_old', skew: 100 },
    stripe: 'rejects',
  },
  {
    name: 'Infinity disables the age check',
    header: sign(1),
    options: { tolerance: Number.POSITIVE_INFINITY, now: fixedNow },
    expect: { index: 0 },
  },
  {
    name: 'bad signature on a stale header reports the mismatch first',
    header: sign(NOW_S - 10_000, [OTHER_SECRET]),
    expect: { code: 'signature_mismatch' },
    stripe: 'rejects',
  },
  {
    name: 'several v1, the last matches',
    header: `t=${NOW_S},v1=${v1(OTHER_SECRET)},v1=${'0'.repeat(64)},v1=${v1(SECRET)}`,
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'junk v1 values next to a good one',
    header: `t=${NOW_S},v1=zz,v1=${'a'.repeat(63)},v1=${v1(SECRET)}`,
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'only junk v1 values',
    header: `t=${NOW_S},v1=${v1(SECRET).slice(0, 40)}`,
    expect: { code: 'signature_mismatch', message: /not 64 hex digits/ },
    stripe: 'rejects',
  },
  {
    name: 'uppercase hex is the same signature',
    header: `t=${NOW_S},v1=${v1(SECRET).toUpperCase()}`,
    expect: { index: 0 },
  },
  {
    name: 'v0-only header (with a genuine HMAC in v0) is a downgrade',
    header: `t=${NOW_S},v0=${v1(SECRET)}`,
    expect: { code: 'no_v1_signature', message: /only v0/ },
    stripe: 'rejects',
  },
  {
    name: 'v1 plus a v0 placeholder',
    header: buildSignatureHeader({
      payload: BODY,
      secrets: [SECRET],
      timestamp: NOW_S,
      extraSchemes: { v0: 'f'.repeat(64) },
    }),
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'timestamp but no signatures',
    header: `t=${NOW_S}`,
    expect: { code: 'no_v1_signature' },
    stripe: 'rejects',
  },
  {
    name: 'multiple secrets, the second matches (rotation)',
    header: sign(),
    secret: [OTHER_SECRET, SECRET],
    expect: { index: 1 },
  },
  {
    name: 'multiple secrets, none matches',
    header: sign(),
    secret: [OTHER_SECRET, 'whsec_third'],
    expect: { code: 'signature_mismatch', message: /None of the 2 secrets/ },
  },
  {
    name: 'header signed with two secrets, verified with the old one',
    header: sign(NOW_S, [SECRET, OTHER_SECRET]),
    secret: OTHER_SECRET,
    expect: { index: 0 },
  },
  {
    name: 'parsed object payload',
    payload: EVENT,
    header: sign(),
    expect: { code: 'payload_not_raw', message: /JSON body parser .*before the webhook route/ },
    stripe: 'rejects',
  },
  { name: 'undefined payload', payload: undefined, header: sign(), expect: { code: 'payload_not_raw' } },
  {
    name: 'ArrayBuffer payload',
    payload: new ArrayBuffer(4),
    header: sign(),
    expect: { code: 'payload_not_raw', message: /new Uint8Array/ },
  },
  {
    name: 'secret with a trailing newline (signed without)',
    header: sign(),
    secret: `${SECRET}\n`,
    expect: {
      code: 'signature_mismatch',
      message: /trailing newline.*with it removed the signature matches/,
    },
    stripe: 'rejects',
  },
  {
    name: 'secret with whitespace that really is what signed',
    header: sign(NOW_S, [` ${SECRET} `]),
    secret: ` ${SECRET} `,
    expect: { index: 0 },
    stripe: 'accepts',
  },
  {
    name: 'secret without the whsec_ prefix',
    header: sign(),
    secret: SECRET.slice('whsec_'.length),
    expect: { code: 'signature_mismatch', message: /lacks the whsec_ prefix; with it the signature matches/ },
    stripe: 'rejects',
  },
  {
    name: 'an API key instead of the signing secret',
    header: sign(),
    secret: 'sk_test_x',
    expect: { code: 'signature_mismatch', message: /looks like an API key/ },
    stripe: 'rejects',
  },
  { name: 'missing header', header: undefined, expect: { code: 'missing_header' }, stripe: 'rejects' },
  { name: 'empty header', header: '', expect: { code: 'missing_header' }, stripe: 'rejects' },
  { name: 'empty header array', header: [], expect: { code: 'missing_header' } },
  { name: 'header array with one value', header: [sign()], expect: { index: 0 } },
  { name: 'header array, repeated identical value', header: [sign(), sign()], expect: { index: 0 } },
  {
    name: 'header array with different values',
    header: [sign(), sign(NOW_S - 1)],
    expect: { code: 'malformed_header', message: /2 different Stripe-Signature headers/ },
  },
  { name: 'garbage header', header: 'garbage', expect: { code: 'malformed_header' }, stripe: 'rejects' },
  {
    name: 'header without t',
    header: `v1=${v1(SECRET)}`,
    expect: { code: 'malformed_header', message: /no valid t=/ },
    stripe: 'rejects',
  },
  {
    name: 'header with a non-numeric t',
    header: `t=soon,v1=${v1(SECRET)}`,
    expect: { code: 'malformed_header' },
    stripe: 'rejects',
  },
  { name: 'header that is a number', header: 42, expect: { code: 'malformed_header' } },
  {
    name: 'spaces after commas are tolerated',
    header: `t=${NOW_S}, v1=${v1(SECRET)}`,
    expect: { index: 0 },
  },
  {
    name: 'tolerance 0 is refused (stripe-node would disable the check)',
    header: sign(1),
    options: { tolerance: 0, now: fixedNow },
    expect: { code: 'invalid_options', message: /Infinity/ },
    stripe: 'accepts',
  },
  {
    name: 'negative tolerance',
    header: sign(),
    options: { tolerance: -5 },
    expect: { code: 'invalid_options' },
  },
  {
    name: 'NaN tolerance',
    header: sign(),
    options: { tolerance: Number.NaN },
    expect: { code: 'invalid_options' },
  },
  {
    name: 'string tolerance',
    header: sign(),
    options: { tolerance: '300' },
    expect: { code: 'invalid_options' },
  },
  {
    name: 'tolerance as a bare number',
    header: sign(),
    options: 300,
    expect: { code: 'invalid_options', message: /\{ tolerance: 300 \}/ },
  },
  {
    name: 'now is not a function',
    header: sign(),
    options: { now: NOW_MS },
    expect: { code: 'invalid_options' },
  },
  {
    name: 'now returns NaN',
    header: sign(),
    options: { now: () => Number.NaN },
    expect: { code: 'invalid_options' },
  },
  { name: 'empty secret', header: sign(), secret: '', expect: { code: 'invalid_secret' } },
  { name: 'undefined secret', header: sign(), secret: undefined, expect: { code: 'invalid_secret' } },
  { name: 'empty secret list', header: sign(), secret: [], expect: { code: 'invalid_secret' } },
  {
    name: 'non-string secret in list',
    header: sign(),
    secret: [SECRET, 7],
    expect: { code: 'invalid_secret' },
  },
];

// `secret: undefined` in a case means "pass undefined", so only a missing key takes the default.
const argsOf = (c: Case) =>
  [
    'payload' in c ? c.payload : BODY,
    c.header,
    'secret' in c ? c.secret : SECRET,
    'options' in c ? c.options : { now: fixedNow },
  ] as [string, string, string, { now: () => number }];

function expectOutcome(c: Case, outcome: ReturnType<typeof outcomeOf>) {
  if ('index' in c.expect) {
    expect(outcome).toMatchObject({ ok: true, matchedSecretIndex: c.expect.index });
    return;
  }
  expect(outcome).toMatchObject({ ok: false, code: c.expect.code });
  if (!outcome.ok) {
    if (c.expect.skew !== undefined) expect(outcome.skewSeconds).toBe(c.expect.skew);
    if (c.expect.message) expect(outcome.message).toMatch(c.expect.message);
  }
}

describe('verifySignature', () => {
  it.each(cases)('$name', (c) => {
    expectOutcome(
      c,
      outcomeOf(() => verifySignature(...argsOf(c))),
    );
  });
});

describe('verifySignatureAsync gives the same verdicts and errors', () => {
  it.each(cases)('$name', async (c) => {
    const sync = outcomeOf(() => verifySignature(...argsOf(c)));
    const async = await outcomeOfAsync(() => verifySignatureAsync(...argsOf(c)));
    expect(async).toEqual(sync);
  });
});

describe('stripe-node agrees where its behaviour is the same', () => {
  it.each(cases.filter((c) => c.stripe !== undefined))('$name', (c) => {
    const [payload, header, secret, options] = argsOf(c);
    const tolerance = (options as { tolerance?: number } | undefined)?.tolerance;
    expect(stripeAccepts(payload, header, secret, tolerance)).toBe(c.stripe === 'accepts');
  });
});

describe('constructEvent', () => {
  it('returns the parsed event, typed', () => {
    const event = constructEvent(BODY, sign(), SECRET, { now: fixedNow });
    expect(event).toEqual(EVENT);
    const typed: WebhookEvent = event;
    expect(typed.type).toBe('account.updated');
  });

  it('parses a Buffer payload, stripping a UTF-8 BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)]);
    const header = buildSignatureHeader({ payload: bytes, secrets: [SECRET], timestamp: NOW_S });
    expect(constructEvent(bytes, header, SECRET, { now: fixedNow })).toEqual(EVENT);
  });

  it.each([
    ['not JSON', 'not json {'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a JSON string', '"evt"'],
  ])('refuses a verified payload that is %s', async (_, payload) => {
    const header = sign(NOW_S, [SECRET], payload);
    for (const run of [
      async () => constructEvent(payload, header, SECRET, { now: fixedNow }),
      () => constructEventAsync(payload, header, SECRET, { now: fixedNow }),
    ]) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isWebhookSignatureError(err, 'invalid_payload')).toBe(true);
    }
  });

  it('keeps the JSON error as the cause', () => {
    const payload = '{"id":';
    try {
      constructEvent(payload, sign(NOW_S, [SECRET], payload), SECRET, { now: fixedNow });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WebhookSignatureError);
      expect((err as Error).cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('refuses bytes that are not UTF-8 once verified', () => {
    expect(() => constructEvent(nonUtf8, sign(NOW_S, [SECRET], nonUtf8), SECRET, { now: fixedNow })).toThrow(
      expect.objectContaining({ code: 'invalid_payload' }),
    );
  });

  it('verifies before parsing: a bad signature on bad JSON is a mismatch', () => {
    expect(() => constructEvent('nope', sign(), SECRET, { now: fixedNow })).toThrow(
      expect.objectContaining({ code: 'signature_mismatch' }),
    );
  });

  it('constructEventAsync returns the same event', async () => {
    await expect(
      constructEventAsync(BODY, sign(), [OTHER_SECRET, SECRET], { now: fixedNow }),
    ).resolves.toEqual(EVENT);
  });

  it('defaults to the real clock and a 300 s tolerance', () => {
    const nowS = Math.floor(Date.now() / 1000);
    expect(constructEvent(BODY, sign(nowS), SECRET).id).toBe(EVENT.id);
    expect(() => constructEvent(BODY, sign(nowS - 3600), SECRET)).toThrow(
      expect.objectContaining({ code: 'timestamp_too_old' }),
    );
  });
});

describe('errors', () => {
  it('carry the header and the measured skew', () => {
    const header = sign(NOW_S - 1000);
    try {
      verifySignature(BODY, header, SECRET, { now: fixedNow });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WebhookSignatureError);
      expect(err).toMatchObject({
        name: 'WebhookSignatureError',
        code: 'timestamp_too_old',
        skewSeconds: 1000,
        header,
      });
    }
  });

  it('report a signature from a different signer (independent HMAC) as a mismatch, not a crash', () => {
    const foreign = createHmac('sha256', 'not-the-secret').update(`${NOW_S}.${BODY}`).digest('hex');
    expect(
      outcomeOf(() => verifySignature(BODY, `t=${NOW_S},v1=${foreign}`, SECRET, { now: fixedNow })),
    ).toMatchObject({
      ok: false,
      code: 'signature_mismatch',
    });
  });
});

describe('generateTestHeader', () => {
  it('produces a header the verifier accepts', () => {
    const header = generateTestHeader({ payload: BODY, secret: SECRET, timestamp: NOW_S });
    expect(header).toBe(`t=${NOW_S},v1=${v1(SECRET)}`);
    expect(verifySignature(BODY, header, SECRET, { now: fixedNow })).toEqual({
      timestamp: NOW_S,
      matchedSecretIndex: 0,
    });
  });

  it('defaults the timestamp to now', () => {
    const before = Math.floor(Date.now() / 1000);
    const header = generateTestHeader({ payload: BODY, secret: SECRET });
    const after = Math.floor(Date.now() / 1000);
    const t = Number(/^t=(\d+),/.exec(header)?.[1]);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
  });

  it('can produce another scheme, which verification refuses', () => {
    const header = generateTestHeader({ payload: BODY, secret: SECRET, timestamp: NOW_S, scheme: 'v0' });
    expect(header).toBe(`t=${NOW_S},v0=${v1(SECRET)}`);
    expect(() => verifySignature(BODY, header, SECRET, { now: fixedNow })).toThrow(
      expect.objectContaining({ code: 'no_v1_signature' }),
    );
  });
});
