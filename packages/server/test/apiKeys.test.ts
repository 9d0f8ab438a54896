/**
 * Keys are managed: listed, created and revoked (refused at once), checked
 * for length when chosen by hand, a live key only when asked for, and failed
 * authentication throttled per client address.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { createAuthThrottle } from '../src/api/authThrottle.js';
import { createSwitchboard } from '../src/server.js';
import { type Harness, LIVE_KEY, makeTestStore, startHarness } from './helpers/switchboard.js';

describe('authThrottle', () => {
  it('allows maxFailures, then refuses until the oldest failure leaves the window', () => {
    let now = 0;
    const t = createAuthThrottle({ maxFailures: 3, windowMs: 1000, clock: () => now });
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterMs('a')).toBe(0);
      t.recordFailure('a');
      now += 100;
    }
    // Failures at 0, 100, 200; now 300: free once the one at 0 is 1000 ms old.
    expect(t.retryAfterMs('a')).toBe(700);
    expect(t.retryAfterMs('b')).toBe(0);
    now = 1000;
    expect(t.retryAfterMs('a')).toBe(0);
  });

  it('forgets the oldest address past its bound', () => {
    const t = createAuthThrottle({ maxFailures: 1, windowMs: 1000, clock: () => 0, maxAddresses: 2 });
    t.recordFailure('a');
    t.recordFailure('b');
    t.recordFailure('c');
    expect(t.retryAfterMs('a')).toBe(0);
    expect(t.retryAfterMs('c')).toBeGreaterThan(0);
  });
});

describe('API keys', () => {
  let h: Harness | null = null;
  afterEach(async (ctx) => {
    await h?.close(ctx.task.result?.state === 'fail');
    h = null;
  });

  it('lists, creates and revokes keys of the caller’s mode; a revoked key is refused at once', async () => {
    h = await startHarness('sqlite');
    const created = await h.api('POST', '/v1/api_keys', {});
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      object: 'api_key',
      livemode: false,
      secret: expect.stringMatching(/^sk_test_\w{32}$/),
    });
    const newKey = created.body.secret as string;
    const asNew = { authorization: `Bearer ${newKey}` };
    expect((await h.api('GET', '/v1/events', undefined, asNew)).status).toBe(200);
    const list = (await h.api('GET', '/v1/api_keys')).body.data as { id: string; redacted: string }[];
    expect(list.map((k) => k.redacted)).toContain(`sk_test_…${newKey.slice(-4)}`);
    // No secret, no hash: only the last four characters.
    expect(JSON.stringify(list)).not.toContain(newKey);
    // Live keys are the live key's to manage.
    expect(
      (
        (await h.api('GET', '/v1/api_keys', undefined, { authorization: `Bearer ${LIVE_KEY}` })).body
          .data as unknown[]
      ).length,
    ).toBe(1);

    expect((await h.api('DELETE', `/v1/api_keys/${created.body.id}`)).body).toMatchObject({ deleted: true });
    const refused = await h.api('GET', '/v1/events', undefined, asNew);
    expect(refused.status).toBe(401);
    expect((await h.api('DELETE', `/v1/api_keys/${created.body.id}`)).status).toBe(404);
  });

  it('throttles failed authentication per address: 429 with Retry-After, then free again', async () => {
    h = await startHarness('sqlite');
    const wrong = { authorization: 'Bearer sk_test_notAKeyOfThisServer0000' };
    for (let i = 0; i < 20; i++)
      expect((await h.api('GET', '/v1/events', undefined, wrong)).status).toBe(401);
    const throttled = await h.api('GET', '/v1/events', undefined, wrong);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toMatchObject({ type: 'rate_limit_error' });
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // The good key from the same address waits too: the address is what is throttled.
    expect((await h.api('GET', '/v1/events')).status).toBe(429);
    h.clock.advance(60_000);
    expect((await h.api('GET', '/v1/events')).status).toBe(200);
  });

  it('refuses a hand-chosen key that is short or has odd characters, and makes a live key only when asked', async () => {
    for (const testKey of ['sk_test_12345678', 'sk_test_has spaces in it 0000', 'sk_test_ünïcödeünïcödeüü']) {
      const ts = await makeTestStore('sqlite');
      await expect(createSwitchboard({ store: ts.store, testKey })).rejects.toThrow(
        /at least 16 more letters, digits or _/,
      );
      await ts.cleanup(false);
    }
    const ts = await makeTestStore('sqlite');
    const sb = await createSwitchboard({ store: ts.store });
    try {
      expect(sb.generatedKeys.test).toMatch(/^sk_test_/);
      expect(sb.generatedKeys.live).toBeUndefined();
      expect((await ts.store.listApiKeys(sb.platform.id)).map((k) => k.livemode)).toEqual([false]);
    } finally {
      await sb.close();
      await ts.cleanup(false);
    }
  });
});

describe('API keys across nodes (postgres)', () => {
  it('a key revoked on one node is refused at once on the other', async () => {
    const { createPostgresStore } = await import('../src/store/postgres/index.js');
    const { dropSchema, PG_URL, TEST_KEY } = await import('./helpers/switchboard.js');
    const { randomToken } = await import('../src/ids.js');
    const schema = `sb_keys_${randomToken(8).toLowerCase()}`;
    const nodes = [];
    for (let i = 0; i < 2; i++) {
      const sb = await createSwitchboard({
        store: createPostgresStore({ connectionString: PG_URL, schema }),
        testKey: TEST_KEY,
        deliver: false,
      });
      nodes.push({ sb, url: (await sb.listen(0)).url });
    }
    const call = (url: string, key: string, method = 'GET', path = '/v1/events') =>
      fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    try {
      const created = (await (await call(nodes[0]!.url, TEST_KEY, 'POST', '/v1/api_keys')).json()) as {
        id: string;
        secret: string;
      };
      // Seen (and so known) on the other node first.
      expect((await call(nodes[1]!.url, created.secret)).status).toBe(200);
      expect((await call(nodes[0]!.url, TEST_KEY, 'DELETE', `/v1/api_keys/${created.id}`)).status).toBe(200);
      expect((await call(nodes[1]!.url, created.secret)).status).toBe(401);
      expect((await call(nodes[0]!.url, created.secret)).status).toBe(401);
    } finally {
      for (const n of nodes) await n.sb.close();
      await dropSchema(schema);
    }
  });
});
