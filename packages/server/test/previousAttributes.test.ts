import { describe, expect, it } from 'vitest';
import { previousAttributes } from '../src/objects/previousAttributes.js';

describe('previousAttributes: what an update changed, with the values before it', () => {
  it.each([
    ['nothing changed', { a: 1, h: { x: 1 } }, { a: 1, h: { x: 1 } }, {}],
    ['a scalar changed', { email: 'a@x' }, { email: 'b@x' }, { email: 'a@x' }],
    ['a scalar set from null', { email: null }, { email: 'b@x' }, { email: null }],
    ['an attribute added', {}, { name: 'N' }, { name: null }],
    ['an attribute removed', { name: 'N' }, {}, { name: 'N' }],
    [
      'a hash key changed',
      { metadata: { a: '1', b: '2' } },
      { metadata: { a: '1', b: '3' } },
      { metadata: { b: '2' } },
    ],
    [
      'a hash key added',
      { metadata: { a: '1' } },
      { metadata: { a: '1', t: 'g' } },
      { metadata: { t: null } },
    ],
    [
      'a hash key removed',
      { metadata: { a: '1', b: '2' } },
      { metadata: { a: '1' } },
      { metadata: { b: '2' } },
    ],
    [
      'nested hashes, only the changed leaf',
      { address: { city: 'A', line1: 'L', geo: { lat: 1, lng: 2 } } },
      { address: { city: 'A', line1: 'L', geo: { lat: 1, lng: 3 } } },
      { address: { geo: { lng: 2 } } },
    ],
    ['a hash set from null', { address: null }, { address: { city: 'A' } }, { address: null }],
    ['a hash set to null', { address: { city: 'A' } }, { address: null }, { address: { city: 'A' } }],
    [
      'an array element changed: the whole array',
      { locales: ['en', 'fr'] },
      { locales: ['en', 'de'] },
      { locales: ['en', 'fr'] },
    ],
    ['an array of hashes', { items: [{ a: 1 }] }, { items: [{ a: 2 }] }, { items: [{ a: 1 }] }],
  ])('%s', (_name, before, after, expected) => {
    expect(previousAttributes(before, after)).toEqual(expected);
  });
});
