import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSignatureHeader, computeSignature, type WebhookSignatureErrorCode } from '../src/index.js';
import { buildSignatureHeaderAsync, computeSignatureAsync } from '../src/web.js';
import { BODY, NOW_S, OTHER_SECRET, SECRET } from './support.js';

// An independent statement of the scheme: HMAC over the concatenated string.
const reference = (payload: string, secret: string, t: number) =>
  createHmac('sha256', secret).update(`${t}.${payload}`, 'utf8').digest('hex');

describe('computeSignature', () => {
  it('is lowercase hex HMAC-SHA256 of "t.body" keyed with the whole secret', () => {
    const signature = computeSignature(BODY, SECRET, NOW_S);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signature).toBe(reference(BODY, SECRET, NOW_S));
    // The whsec_ prefix is part of the key, not stripped or base64-decoded.
    expect(signature).not.toBe(reference(BODY, SECRET.slice('whsec_'.length), NOW_S));
  });

  it('matches the reference for any input, sync and async, string and bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 99_999_999_999 }),
        async (payload, secret, t) => {
          const expected = reference(payload, secret, t);
          expect(computeSignature(payload, secret, t)).toBe(expected);
          expect(computeSignature(Buffer.from(payload), secret, t)).toBe(expected);
          expect(await computeSignatureAsync(payload, secret, t)).toBe(expected);
          expect(await computeSignatureAsync(Buffer.from(payload), secret, t)).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('signs raw bytes as they are', async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0xc3]);
    const expected = createHmac('sha256', SECRET).update(`${NOW_S}.`).update(bytes).digest('hex');
    expect(computeSignature(bytes, SECRET, NOW_S)).toBe(expected);
    expect(await computeSignatureAsync(bytes, SECRET, NOW_S)).toBe(expected);
  });
});

describe('buildSignatureHeader', () => {
  it('puts one v1 per secret, in order, then the extra schemes', async () => {
    const options = {
      payload: BODY,
      secrets: [SECRET, OTHER_SECRET],
      timestamp: NOW_S,
      extraSchemes: { v0: 'ab'.repeat(32) },
    };
    const expected =
      `t=${NOW_S},v1=${reference(BODY, SECRET, NOW_S)},v1=${reference(BODY, OTHER_SECRET, NOW_S)},` +
      `v0=${'ab'.repeat(32)}`;
    expect(buildSignatureHeader(options)).toBe(expected);
    expect(await buildSignatureHeaderAsync(options)).toBe(expected);
  });

  it.each<[string, unknown, WebhookSignatureErrorCode]>([
    ['an empty secret list', { payload: BODY, secrets: [], timestamp: NOW_S }, 'invalid_secret'],
    [
      'a single secret string instead of a list',
      { payload: BODY, secrets: SECRET, timestamp: NOW_S },
      'invalid_secret',
    ],
    ['an empty secret', { payload: BODY, secrets: [''], timestamp: NOW_S }, 'invalid_secret'],
    [
      'a timestamp in milliseconds',
      { payload: BODY, secrets: [SECRET], timestamp: NOW_S * 1000 },
      'invalid_options',
    ],
    [
      'a fractional timestamp',
      { payload: BODY, secrets: [SECRET], timestamp: NOW_S + 0.5 },
      'invalid_options',
    ],
    ['a missing timestamp', { payload: BODY, secrets: [SECRET] }, 'invalid_options'],
    ['an object payload', { payload: { id: 'evt' }, secrets: [SECRET], timestamp: NOW_S }, 'payload_not_raw'],
    [
      'an extra v1',
      { payload: BODY, secrets: [SECRET], timestamp: NOW_S, extraSchemes: { v1: 'ab' } },
      'invalid_options',
    ],
    [
      'an extra t',
      { payload: BODY, secrets: [SECRET], timestamp: NOW_S, extraSchemes: { t: '1' } },
      'invalid_options',
    ],
    [
      'an extra value with a comma',
      { payload: BODY, secrets: [SECRET], timestamp: NOW_S, extraSchemes: { v0: 'a,v1=b' } },
      'invalid_options',
    ],
    ['no options', undefined, 'invalid_options'],
  ])('refuses %s', async (_, options, code) => {
    const build = buildSignatureHeader as (o: unknown) => string;
    const buildAsync = buildSignatureHeaderAsync as (o: unknown) => Promise<string>;
    expect(() => build(options)).toThrow(expect.objectContaining({ code }));
    await expect(buildAsync(options)).rejects.toMatchObject({ code });
  });

  it.each<[string, unknown, unknown, WebhookSignatureErrorCode]>([
    ['a secret list', [SECRET], NOW_S, 'invalid_secret'],
    ['an empty secret', '', NOW_S, 'invalid_secret'],
    ['a negative timestamp', SECRET, -1, 'invalid_options'],
  ])('computeSignature refuses %s', async (_, secret, t, code) => {
    const compute = computeSignature as (p: unknown, s: unknown, t: unknown) => string;
    const computeAsync = computeSignatureAsync as (p: unknown, s: unknown, t: unknown) => Promise<string>;
    expect(() => compute(BODY, secret, t)).toThrow(expect.objectContaining({ code }));
    await expect(computeAsync(BODY, secret, t)).rejects.toMatchObject({ code });
  });
});
