import { describe, expect, it } from 'vitest';
import { newId, randomBytesPooled, randomToken } from '../src/ids.js';

describe('ids', () => {
  it.each([1, 18, 32, 4095, 4096, 5000])('randomBytesPooled(%i) gives that many fresh bytes', (n) => {
    const a = randomBytesPooled(n);
    const b = randomBytesPooled(n);
    expect(a).toHaveLength(n);
    expect(b).toHaveLength(n);
    // Copies, not views of the pool: a refill must not change what a caller holds.
    const before = Buffer.from(a);
    for (let i = 0; i < 300; i++) randomBytesPooled(32);
    expect(a.equals(before)).toBe(true);
    if (n >= 16) expect(a.equals(b)).toBe(false);
  });

  it('tokens are base62 of the asked length and do not repeat across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = randomToken(24);
      expect(t).toMatch(/^[0-9A-Za-z]{24}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(2000);
    expect(newId('evt')).toMatch(/^evt_[0-9A-Za-z]{24}$/);
  });
});
