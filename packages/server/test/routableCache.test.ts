/**
 * The routable endpoints kept on the server's thread for the SQLite writer
 * thread: never stale after a write that changes an endpoint, expired after
 * their time on the cache's clock, and never filled by a read older than an
 * invalidation.
 */

import { describe, expect, it } from 'vitest';
import { manualClock } from '../src/clock.js';
import { createSqliteStore } from '../src/store/index.js';
import { RoutableCache } from '../src/store/routableCache.js';
import type { EndpointRecord } from '../src/store/types.js';
import { endpoint, PLATFORM } from './store/conformance.js';

const ep = (id: string) => ({ id }) as EndpointRecord;

describe('RoutableCache', () => {
  it('keeps an answer for its time on its clock, then asks again', async () => {
    const clock = manualClock(0);
    const cache = new RoutableCache(1000, clock);
    let loads = 0;
    const load = async () => {
      loads++;
      return [ep(`we_${loads}`)];
    };
    expect(await cache.get(['acct_a'], load)).toEqual([ep('we_1')]);
    clock.advance(999);
    expect(await cache.get(['acct_a'], load)).toEqual([ep('we_1')]);
    clock.advance(1);
    expect(await cache.get(['acct_a'], load)).toEqual([ep('we_2')]);
    expect(await cache.get(['acct_a', 'acct_b'], load)).toEqual([ep('we_3')]);
  });

  it('an answer read before an invalidation is not kept', async () => {
    const cache = new RoutableCache(60_000, () => 0);
    let release: (v: EndpointRecord[]) => void = () => {};
    const slow = cache.get(['acct_a'], () => new Promise((resolve) => (release = resolve)));
    cache.invalidate();
    release([ep('we_old')]);
    expect(await slow).toEqual([ep('we_old')]);
    expect(await cache.get(['acct_a'], async () => [ep('we_new')])).toEqual([ep('we_new')]);
  });
});

describe('the SQLite store on its writer thread', () => {
  it('routes to what the last write left, whatever was read before', async () => {
    const store = createSqliteStore({ path: ':memory:' });
    try {
      await store.migrate();
      await store.initPlatform(PLATFORM, []);
      const owners = [PLATFORM.id];
      expect(await store.listRoutableEndpoints(owners)).toEqual([]);
      await store.createEndpoint(endpoint('we_1'));
      expect((await store.listRoutableEndpoints(owners)).map((e) => e.id)).toEqual(['we_1']);
      await store.updateEndpoint('we_1', { status: 'disabled', disabledReason: 'test' });
      expect(await store.listRoutableEndpoints(owners)).toEqual([]);
      await store.updateEndpoint('we_1', { status: 'enabled', disabledReason: null });
      expect((await store.listRoutableEndpoints(owners)).map((e) => e.id)).toEqual(['we_1']);
      await store.deleteEndpoint('we_1');
      expect(await store.listRoutableEndpoints(owners)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
