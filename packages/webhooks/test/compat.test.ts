import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSignatureHeader,
  buildSignatureHeaderAsync,
  computeSignature,
  constructEvent,
  generateTestHeader,
  verifySignature,
} from '../src/index.js';
import { BODY, EVENT, fixedNow, NOW_MS, NOW_S, OTHER_SECRET, SECRET, stripe } from './support.js';

const payloads: [string, string][] = [
  ['a pretty-printed event', BODY],
  ['a compact event', JSON.stringify(EVENT)],
  ['non-ASCII text', JSON.stringify({ id: 'evt_ü', object: 'event', name: 'Zoë 🚀 東京', type: 'x' })],
  ['an empty object', '{}'],
  ['a 128 KB event', JSON.stringify({ id: 'evt_big', object: 'event', blob: 'x'.repeat(128 * 1024) })],
];

describe('headers made by stripe-node verify here', () => {
  it.each(payloads)('%s', (_, payload) => {
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: NOW_S });
    for (const body of [payload, Buffer.from(payload), new Uint8Array(Buffer.from(payload))]) {
      expect(verifySignature(body, header, SECRET, { now: fixedNow })).toEqual({
        timestamp: NOW_S,
        matchedSecretIndex: 0,
      });
    }
    expect(constructEvent(payload, header, SECRET, { now: fixedNow })).toEqual(JSON.parse(payload));
  });

  it('for any payload and secret (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: NOW_S - 300, max: NOW_S + 300 }),
        (payload, secret, timestamp) => {
          const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
          expect(verifySignature(payload, header, secret, { now: fixedNow }).matchedSecretIndex).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('headers made here verify with stripe-node', () => {
  it.each(payloads)('%s', async (_, payload) => {
    const headers = [
      buildSignatureHeader({ payload, secrets: [SECRET], timestamp: NOW_S }),
      buildSignatureHeader({ payload: Buffer.from(payload), secrets: [SECRET], timestamp: NOW_S }),
      buildSignatureHeader({ payload, secrets: [OTHER_SECRET, SECRET], timestamp: NOW_S }),
      buildSignatureHeader({
        payload,
        secrets: [SECRET],
        timestamp: NOW_S,
        extraSchemes: { v0: 'ab'.repeat(32) },
      }),
      await buildSignatureHeaderAsync({ payload, secrets: [SECRET], timestamp: NOW_S }),
      generateTestHeader({ payload, secret: SECRET, timestamp: NOW_S }),
    ];
    for (const header of headers) {
      expect(stripe.webhooks.constructEvent(payload, header, SECRET, 300, undefined, NOW_MS)).toEqual(
        JSON.parse(payload),
      );
    }
  });

  it('are byte-for-byte what stripe-node generates', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        // stripe-node reads a timestamp of 0 as "not given" and uses its clock.
        fc.integer({ min: 1, max: 4_000_000_000 }),
        (payload, secret, timestamp) => {
          expect(buildSignatureHeader({ payload, secrets: [secret], timestamp })).toBe(
            stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('signs the same bytes whether given a string or its UTF-8 Buffer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (payload) => {
        expect(computeSignature(Buffer.from(payload, 'utf8'), SECRET, NOW_S)).toBe(
          computeSignature(payload, SECRET, NOW_S),
        );
      }),
      { numRuns: 200 },
    );
  });
});
