import { describe, expect, it } from 'vitest';
import { newId, newSortableId, randomBytesPooled, randomToken } from '../src/ids.js';

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

  it('sortable ids sort by the time they were made, byte for byte, and stay unique within one millisecond', () => {
    const times = [0, 1, 61, 62, 3_843, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 62 ** 8 - 1];
    const ids = times.map((t) => newSortableId('evt', t));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9A-Za-z]{24}$/);
    // Byte order (SQLite's BINARY collation, PostgreSQL's C), not locale order.
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(byBytes).toEqual(ids);
    expect(newSortableId('wd', 1_700_000_000_000).slice(0, 11)).toBe(
      ids[5]!.replace('evt', 'wd').slice(0, 11),
    );
    const same = new Set(Array.from({ length: 1000 }, () => newSortableId('wa', 1_700_000_000_000)));
    expect(same.size).toBe(1000);
  });
});
