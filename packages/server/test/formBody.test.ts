import { describe, expect, it } from 'vitest';
import { type FormParams, paramPath, parseFormParams } from '../src/api/formBody.js';

const ok: [string, string, FormParams][] = [
  ['empty text', '', {}],
  ['a scalar', 'a=1', { a: '1' }],
  ['several scalars', 'a=1&b=two', { a: '1', b: 'two' }],
  ['+ as a space', 'description=hello+world', { description: 'hello world' }],
  ['percent-decoding', 'url=https%3A%2F%2Fx.test%2Fhook%3Fa%3D1', { url: 'https://x.test/hook?a=1' }],
  ['%2B stays a plus', 'q=a%2Bb', { q: 'a+b' }],
  ['UTF-8 percent-decoding', 'name=caf%C3%A9', { name: 'café' }],
  ['empty value kept', 'description=', { description: '' }],
  ['key without =', 'flag', { flag: '' }],
  ['empty pairs skipped', '&a=1&&b=2&', { a: '1', b: '2' }],
  ['= inside a value', 'a=x=y', { a: 'x=y' }],
  ['repeated scalar: last wins', 'a=1&a=2', { a: '2' }],
  ['indexed array', 'enabled_events[0]=x&enabled_events[1]=y', { enabled_events: ['x', 'y'] }],
  ['indices give the order', 'e[1]=y&e[0]=x', { e: ['x', 'y'] }],
  ['sparse indices compacted', 'e[7]=c&e[2]=a&e[5]=b', { e: ['a', 'b', 'c'] }],
  ['appended array', 'enabled_events[]=x&enabled_events[]=y', { enabled_events: ['x', 'y'] }],
  ['append after an index', 'e[5]=x&e[]=y', { e: ['x', 'y'] }],
  ['encoded brackets', 'enabled_events%5B0%5D=x&enabled_events%5b1%5d=y', { enabled_events: ['x', 'y'] }],
  ['encoded append brackets', 'e%5B%5D=x', { e: ['x'] }],
  ['nested object', 'metadata[k]=v&metadata[other]=w', { metadata: { k: 'v', other: 'w' } }],
  ['unset metadata key', 'metadata[k]=', { metadata: { k: '' } }],
  [
    'deep nesting',
    'data[object][requirements][currently_due][0]=x',
    { data: { object: { requirements: { currently_due: ['x'] } } } },
  ],
  [
    'array of objects',
    'items[0][price]=p&items[0][qty]=2&items[1][price]=q',
    { items: [{ price: 'p', qty: '2' }, { price: 'q' }] },
  ],
  ['repeated nested value: last wins', 'm[k]=1&m[k]=2', { m: { k: '2' } }],
  ['index 1000 allowed', 'a[1000]=x', { a: ['x'] }],
  ['leading zeros are the same index', 'a[01]=x&a[1]=y', { a: ['y'] }],
  [
    'depth 20 allowed',
    `a${Array.from({ length: 20 }, (_, i) => `[${i + 1}]`).join('')}=x`,
    { a: JSON.parse(`${'['.repeat(20)}"x"${']'.repeat(20)}`) },
  ],
  [
    'stripe-node style body',
    'url=https%3A%2F%2Fa.test&connect=true&enabled_events[0]=*',
    {
      url: 'https://a.test',
      connect: 'true',
      enabled_events: ['*'],
    },
  ],
  ['constructor is an ordinary key', 'metadata[constructor]=x', { metadata: { constructor: 'x' } }],
  ['prototype is an ordinary key', 'prototype=1', { prototype: '1' }],
  ['spaces in keys via +', 'metadata[order+id]=1', { metadata: { 'order id': '1' } }],
];

const bad: [string, string, string][] = [
  ['malformed percent in a value', 'a=%zz', 'a'],
  ['malformed percent in a nested value', 'metadata[k]=100%', 'metadata[k]'],
  ['malformed percent in a key', 'a%zz=1', 'a%zz'],
  ['value then object', 'a=1&a[b]=2', 'a[b]'],
  ['object then value', 'a[b]=2&a=1', 'a'],
  ['array then object', 'a[0]=1&a[x]=2', 'a[x]'],
  ['object then array', 'a[x]=1&a[0]=2', 'a[0]'],
  ['value then array', 'a=1&a[]=2', 'a[]'],
  ['deep conflict', 'd[o][r]=1&d[o][r][0]=2', 'd[o][r][0]'],
  ['unclosed bracket', 'a[b=1', 'a[b'],
  ['stray closing bracket', 'a]=1', 'a]'],
  ['text after brackets', 'a[b]c=1', 'a[b]c'],
  ['nested brackets', 'a[[b]]=1', 'a[[b]]'],
  ['no name', '[a]=1', '[a]'],
  ['empty name', '=1', ''],
  ['__proto__ at the top', '__proto__[polluted]=1', '__proto__[polluted]'],
  ['__proto__ nested', 'metadata[__proto__]=1', 'metadata[__proto__]'],
  ['encoded __proto__', '%5F%5Fproto%5F%5F=1', '__proto__'],
  [
    'depth 21',
    `a${Array.from({ length: 21 }, (_, i) => `[${i + 1}]`).join('')}=x`,
    `a${Array.from({ length: 21 }, (_, i) => `[${i + 1}]`).join('')}`,
  ],
  ['index 1001', 'a[1001]=x', 'a[1001]'],
  ['huge index', 'a[99999999999999999999]=x', 'a[99999999999999999999]'],
  ['append inside a name', 'items[][price]=p', 'items[][price]'],
];

describe('parseFormParams', () => {
  it.each(ok)('%s: %s', (_name, text, params) => {
    expect(parseFormParams(text)).toEqual({ ok: true, params });
  });

  it.each(bad)('%s: %s → error naming %s', (_name, text, param) => {
    const result = parseFormParams(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.param).toBe(param);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('returns plain objects and never touches Object.prototype', () => {
    const result = parseFormParams('a[constructor][prototype][x]=1&b[0][toString]=2');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.params)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('x');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(result.params).toEqual({ a: { constructor: { prototype: { x: '1' } } }, b: [{ toString: '2' }] });
    expect(JSON.stringify(result.params)).toBe(
      '{"a":{"constructor":{"prototype":{"x":"1"}}},"b":[{"toString":"2"}]}',
    );
  });

  it('refuses __proto__ before anything is built', () => {
    expect(parseFormParams('a=1&__proto__[polluted]=yes').ok).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('caps appends at the index limit', () => {
    const text = Array.from({ length: 1002 }, (_, i) => `a[]=${i}`).join('&');
    expect(parseFormParams(text)).toMatchObject({ ok: false, param: 'a[]' });
    const fits = Array.from({ length: 1001 }, (_, i) => `a[]=${i}`).join('&');
    const parsed = parseFormParams(fits);
    expect(parsed.ok && (parsed.params['a'] as string[]).length).toBe(1001);
  });
});

describe('paramPath', () => {
  it.each([
    [['a'], 'a'],
    [['data', 'object', 'id'], 'data[object][id]'],
    [['items', 0, 'price'], 'items[0][price]'],
    [['e', ''], 'e[]'],
    [[], ''],
  ] as [(string | number)[], string][])('%j → %s', (segments, expected) => {
    expect(paramPath(segments)).toBe(expected);
  });
});
