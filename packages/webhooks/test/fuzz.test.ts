import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSignatureHeader,
  constructEvent,
  verifySignature,
  WebhookSignatureError,
} from '../src/index.js';
import { verifySignatureAsync } from '../src/web.js';
import { fixedNow, NOW_S, outcomeOf, outcomeOfAsync, SECRET } from './support.js';

const payload = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }),
  fc.anything(),
);
const secret = fc.oneof(
  fc.constant(SECRET),
  fc.string({ maxLength: 40 }),
  fc.array(fc.oneof(fc.constant(SECRET), fc.string({ maxLength: 20 })), { maxLength: 4 }),
  fc.anything(),
);
const timestamp = fc.oneof(
  fc.integer({ min: NOW_S - 400, max: NOW_S + 400 }),
  fc.integer({ min: 0, max: 99_999_999_999 }),
);
const options = fc.oneof(
  fc.constant(undefined),
  fc.record(
    {
      tolerance: fc.oneof(fc.double(), fc.integer(), fc.constant(Number.POSITIVE_INFINITY), fc.anything()),
      now: fc.oneof(
        fc.constant(fixedNow),
        fc.double().map((v) => () => v),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

/** Headers close to valid ones: signed, then possibly cut, spliced or joined with noise. */
function headerFor(body: unknown) {
  const signed = fc
    .tuple(timestamp, fc.array(fc.constantFrom(SECRET, 'whsec_x'), { minLength: 1, maxLength: 3 }))
    .map(([t, secrets]) =>
      typeof body === 'string' || body instanceof Uint8Array
        ? buildSignatureHeader({ payload: body, secrets, timestamp: t })
        : `t=${t},v1=${'0'.repeat(64)}`,
    );
  const mutated = fc
    .tuple(signed, fc.nat(), fc.nat(), fc.string({ unit: 'binary', maxLength: 10 }))
    .map(([h, a, b, noise]) => h.slice(0, a % (h.length + 1)) + noise + h.slice(b % (h.length + 1)));
  return fc.oneof(
    signed,
    mutated,
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(fc.oneof(signed, fc.string()), { maxLength: 3 }),
    fc.anything(),
  );
}

const input = payload.chain((body) => fc.tuple(fc.constant(body), headerFor(body), secret, options));

describe('verifySignature (fuzz)', () => {
  it('returns or throws WebhookSignatureError, nothing else', () => {
    fc.assert(
      fc.property(input, ([body, header, key, opts]) => {
        try {
          const result = verifySignature(body as string, header as string, key as string, opts as undefined);
          expect(Number.isSafeInteger(result.timestamp)).toBe(true);
        } catch (err) {
          if (!(err instanceof WebhookSignatureError)) throw err;
        }
        try {
          constructEvent(body as string, header as string, key as string, opts as undefined);
        } catch (err) {
          if (!(err instanceof WebhookSignatureError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the async verifier reaches the same verdict', async () => {
    await fc.assert(
      fc.asyncProperty(input, async ([body, header, key, opts]) => {
        const args = [body, header, key, opts] as [string, string, string, undefined];
        const sync = outcomeOf(() => verifySignature(...args));
        expect(await outcomeOfAsync(() => verifySignatureAsync(...args))).toEqual(sync);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a signed body and rejects any single-byte change to it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (body, at, flip) => {
          const header = buildSignatureHeader({ payload: body, secrets: [SECRET], timestamp: NOW_S });
          expect(verifySignature(body, header, SECRET, { now: fixedNow }).matchedSecretIndex).toBe(0);
          const tampered = Uint8Array.from(body);
          const i = at % body.length;
          tampered[i] = tampered[i]! ^ flip;
          expect(outcomeOf(() => verifySignature(tampered, header, SECRET, { now: fixedNow }))).toMatchObject(
            {
              ok: false,
              code: 'signature_mismatch',
            },
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
