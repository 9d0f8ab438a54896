/**
 * What an `Idempotency-Key` keeps, as Stripe's: nothing for a request refused
 * before it ran, so the corrected retry runs; anything once it ran, a 500
 * included, replayed for 24 h.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, internalError, invalidParam, noSuch, unavailable } from '../src/api/errors.js';
import { savesIdempotentResult } from '../src/api/idempotencySave.js';
import { ENGINES, type Engine, type Harness, startHarness } from './helpers/switchboard.js';

const executed = (() => {
  const e = new ApiError(402, 'card_error', 'Your card was declined.', 'card_declined');
  e.executed = true;
  return e;
})();

describe('savesIdempotentResult', () => {
  it.each<[string, number, unknown, boolean]>([
    ['a 200', 200, undefined, true],
    ['a 4xx the handler answered itself', 402, undefined, true],
    ['a parameter error', 400, invalidParam('url', 'bad'), false],
    ['a missing object', 404, noSuch('customer', 'cus_1'), false],
    ['an error thrown once the request ran (card decline)', 402, executed, true],
    ['an internal error', 500, internalError('req_1'), true],
    ['an unexpected throw, answered 500', 500, new Error('boom'), true],
    ['the database unavailable', 503, unavailable(), false],
    ['a conflict with a request still running', 409, new ApiError(409, 'idempotency_error', 'busy'), false],
  ])('%s → %s', (_name, status, thrown, saved) => {
    expect(savesIdempotentResult({ status, thrown })).toBe(saved);
  });
});

describe.each(ENGINES)('Idempotency-Key (%s)', (engine: Engine) => {
  let h: Harness;
  afterEach(async (ctx) => {
    await h?.close(ctx.task.result?.state === 'fail');
  });

  it('a request that failed validation saves nothing: the corrected retry with the same key runs', async () => {
    h = await startHarness(engine);
    const key = { 'idempotency-key': 'key-validation' };
    const bad = await h.api(
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['account.udpated'] },
      key,
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('idempotent-replayed')).toBeNull();
    const good = await h.api(
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['account.updated'] },
      key,
    );
    expect(good.status).toBe(200);
    const again = await h.api(
      'POST',
      '/v1/webhook_endpoints',
      { url: 'https://example.com/h', enabled_events: ['account.updated'] },
      key,
    );
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(good.body.id);
  });

  it('a 500 is saved and replayed, so a retry does not run the request twice', async () => {
    h = await startHarness(engine);
    const store = h.sb.store;
    const createEndpoint = store.createEndpoint.bind(store);
    let calls = 0;
    // A fault after the request started executing.
    store.createEndpoint = async (record) => {
      calls++;
      if (calls === 1) throw new Error('disk on fire');
      return createEndpoint(record);
    };
    const key = { 'idempotency-key': 'key-500' };
    const body = { url: 'https://example.com/h', enabled_events: ['*'] };
    const first = await h.api('POST', '/v1/webhook_endpoints', body, key);
    expect(first.status).toBe(500);
    expect(first.body.error.type).toBe('api_error');
    const retry = await h.api('POST', '/v1/webhook_endpoints', body, key);
    expect(retry.status).toBe(500);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(calls).toBe(1);
    // A new key runs it.
    expect(
      (await h.api('POST', '/v1/webhook_endpoints', body, { 'idempotency-key': 'key-new' })).status,
    ).toBe(200);
  });
});

describe('Idempotency-Key across nodes (postgres)', () => {
  it('the same key sent to two nodes at once runs once; a different body gets idempotency_error', async () => {
    const { createPostgresStore } = await import('../src/store/postgres/index.js');
    const { createSwitchboard } = await import('../src/server.js');
    const { dropSchema, PG_URL, TEST_KEY } = await import('./helpers/switchboard.js');
    const { randomToken } = await import('../src/ids.js');
    const schema = `sb_idem_${randomToken(8).toLowerCase()}`;
    const nodes = [];
    for (let i = 0; i < 2; i++) {
      const store = createPostgresStore({ connectionString: PG_URL, schema });
      const sb = await createSwitchboard({ store, testKey: TEST_KEY, deliver: false });
      nodes.push({ sb, url: (await sb.listen(0)).url });
    }
    const post = (url: string, key: string, body: unknown) =>
      fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { id?: string; error?: { type: string } },
      }));
    try {
      for (let round = 0; round < 10; round++) {
        const key = `race-${round}`;
        const body = { type: 'customer.created', data: { object: { id: `cus_${round}` } } };
        const answers = await Promise.all(nodes.map((n) => post(n.url, key, body)));
        const made = answers.filter((r) => r.status === 200).map((r) => r.body.id);
        // One ran; the other waited for it (409, which the SDKs retry) or got its result replayed.
        expect(new Set(made).size, JSON.stringify(answers)).toBe(1);
        for (const r of answers)
          if (r.status !== 200)
            expect(r).toMatchObject({ status: 409, body: { error: { type: 'idempotency_error' } } });
        // Retried on either node: the same event.
        expect((await post(nodes[1]!.url, key, body)).body.id).toBe(made[0]);
        // Another body under the same key, on the other node: refused.
        const other = await post(nodes[0]!.url, key, { ...body, type: 'customer.updated' });
        expect(other).toMatchObject({ status: 400, body: { error: { type: 'idempotency_error' } } });
      }
      const events = await (
        await fetch(`${nodes[0]!.url}/v1/events?limit=100`, {
          headers: { authorization: `Bearer ${TEST_KEY}` },
        })
      ).json();
      expect((events as { data: unknown[] }).data).toHaveLength(10);
    } finally {
      for (const n of nodes) await n.sb.close();
      await dropSchema(schema);
    }
  });
});
