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
