import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSignatureHeader,
  type ParsedSignatureHeader,
  parseSignatureHeader,
  type SignatureEntry,
  v1Signatures,
  WebhookSignatureError,
} from '../src/index.js';

describe('parseSignatureHeader', () => {
  it.each<[string, string, ParsedSignatureHeader]>([
    [
      'the documented form',
      't=1492774577,v1=5257a869,v0=6ffbb59b',
      {
        timestamp: 1492774577,
        signatures: [
          { scheme: 'v1', value: '5257a869' },
          { scheme: 'v0', value: '6ffbb59b' },
        ],
      },
    ],
    ['empty', '', { timestamp: null, signatures: [] }],
    ['only junk', 'garbage,,=,==,a=', { timestamp: null, signatures: [] }],
    [
      'spaces around pairs',
      ' t=12 , v1=aa ,\tv1=bb\t',
      {
        timestamp: 12,
        signatures: [
          { scheme: 'v1', value: 'aa' },
          { scheme: 'v1', value: 'bb' },
        ],
      },
    ],
    [
      'first valid t wins',
      't=x,t=5,t=6,v1=aa',
      { timestamp: 5, signatures: [{ scheme: 'v1', value: 'aa' }] },
    ],
    ['negative t', 't=-5,v1=aa', { timestamp: null, signatures: [{ scheme: 'v1', value: 'aa' }] }],
    ['fractional t', 't=1.5,v1=aa', { timestamp: null, signatures: [{ scheme: 'v1', value: 'aa' }] }],
    [
      't beyond safe integers',
      't=9999999999999999,v1=aa',
      { timestamp: null, signatures: [{ scheme: 'v1', value: 'aa' }] },
    ],
    ['t later in the header', 'v1=aa,t=7', { timestamp: 7, signatures: [{ scheme: 'v1', value: 'aa' }] }],
    ['= inside a value', 't=1,v2=YWJj==', { timestamp: 1, signatures: [{ scheme: 'v2', value: 'YWJj==' }] }],
    ['keys with spaces are junk', 't=1,v 1=aa,v1=b b', { timestamp: 1, signatures: [] }],
    [
      'key case matters',
      'T=1,V1=aa',
      {
        timestamp: null,
        signatures: [
          { scheme: 'T', value: '1' },
          { scheme: 'V1', value: 'aa' },
        ],
      },
    ],
  ])('%s', (_, header, expected) => {
    expect(parseSignatureHeader(header)).toEqual(expected);
  });

  it('returns an empty result for a non-string at run time', () => {
    expect(parseSignatureHeader(undefined as unknown as string)).toEqual({ timestamp: null, signatures: [] });
  });

  it('v1Signatures keeps only v1, in order', () => {
    expect(v1Signatures(parseSignatureHeader('t=1,v1=a1,v0=z,v1=a2,v2=q'))).toEqual(['a1', 'a2']);
  });
});

describe('formatSignatureHeader', () => {
  it('writes one line without spaces', () => {
    expect(
      formatSignatureHeader(1492774577, [
        { scheme: 'v1', value: 'aa' },
        { scheme: 'v0', value: 'bb' },
      ]),
    ).toBe('t=1492774577,v1=aa,v0=bb');
  });

  it.each<[string, number, SignatureEntry[]]>([
    ['a fractional timestamp', 1.5, []],
    ['a negative timestamp', -1, []],
    ['NaN', Number.NaN, []],
    ['a scheme named t', 1, [{ scheme: 't', value: 'aa' }]],
    ['a scheme with a comma', 1, [{ scheme: 'v,1', value: 'aa' }]],
    ['an empty scheme', 1, [{ scheme: '', value: 'aa' }]],
    ['a value with a comma', 1, [{ scheme: 'v1', value: 'a,b' }]],
    ['a value with a space', 1, [{ scheme: 'v1', value: 'a b' }]],
    ['an empty value', 1, [{ scheme: 'v1', value: '' }]],
  ])('refuses %s', (_, timestamp, signatures) => {
    expect(() => formatSignatureHeader(timestamp, signatures)).toThrow(
      expect.objectContaining({ name: 'WebhookSignatureError', code: 'invalid_options' }),
    );
  });
});

// Headers that format/parse must round-trip exactly.
const scheme = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/).filter((s) => s !== 't');
const value = fc.stringMatching(/^[\x21-\x2b\x2d-\x7e]{1,80}$/);
const entry = fc.record({ scheme, value });
const validParsed = fc.record({
  timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  signatures: fc.array(entry, { maxLength: 6 }),
});

// Strings built from header-like fragments reach far more parser branches than uniform noise.
const fragment = fc.oneof(
  fc.constantFrom(
    't',
    'v1',
    'v0',
    '=',
    ',',
    ' ',
    '\t',
    '-',
    '1',
    't=',
    'v1=',
    '==',
    '\u0000',
    '\uD800',
    '🚀',
  ),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 70 }),
  fc.integer().map(String),
);
const headerish = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(''));

describe('parseSignatureHeader (fuzz)', () => {
  it('never throws and returns a consistent shape', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), headerish), (header) => {
        const parsed = parseSignatureHeader(header);
        expect(
          parsed.timestamp === null || (Number.isSafeInteger(parsed.timestamp) && parsed.timestamp >= 0),
        ).toBe(true);
        for (const s of parsed.signatures) {
          expect(s.scheme).not.toBe('t');
          expect(s.scheme).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(s.value).toMatch(/^[\x21-\x2b\x2d-\x7e]+$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parse(format(x)) is x', () => {
    fc.assert(
      fc.property(validParsed, (parsed) => {
        expect(parseSignatureHeader(formatSignatureHeader(parsed.timestamp, parsed.signatures))).toEqual(
          parsed,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('format(parse(h)) is h for a well-formed header', () => {
    fc.assert(
      fc.property(validParsed, (parsed) => {
        const header = [
          `t=${parsed.timestamp}`,
          ...parsed.signatures.map((s) => `${s.scheme}=${s.value}`),
        ].join(',');
        const again = parseSignatureHeader(header);
        expect(again.timestamp).not.toBeNull();
        expect(formatSignatureHeader(again.timestamp!, again.signatures)).toBe(header);
      }),
      { numRuns: 1000 },
    );
  });

  it('format either succeeds or throws WebhookSignatureError', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.array(fc.record({ scheme: fc.string(), value: fc.string() })),
        (t, sigs) => {
          try {
            formatSignatureHeader(t as number, sigs);
          } catch (err) {
            expect(err).toBeInstanceOf(WebhookSignatureError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
